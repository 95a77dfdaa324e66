package dev.d2v.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourcesTest {
    @TempDir
    Path dir;

    private Path write(String rel, String content) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return p;
    }

    @Test
    void labeledLayoutGivesSplitLabelAndStableIdsInInterleavedOrder() throws IOException {
        write("train/1/00002.png", "b");
        write("train/0/00001.png", "a");
        write("test/0/00001.png", "c");
        write("train/0/00003.wav", "d");
        write("notes.md", "ignored");
        List<RawItem> items = Sources.folder(dir, "set").toList();
        assertThat(items).extracting(RawItem::id)
                .containsExactly("set/train/0/00001", "set/train/1/00002", "set/train/0/00003", "set/test/0/00001");
        RawItem first = items.get(0);
        assertThat(first.split()).contains("train");
        assertThat(first.label()).contains("0");
        assertThat(first.modality()).isEqualTo(Modality.IMAGE);
        assertThat(first.contentType()).isEqualTo("image/png");
        assertThat(items.get(2).modality()).isEqualTo(Modality.AUDIO);
    }

    @Test
    void filesOutsideTheLayoutHaveNoLabel() throws IOException {
        write("misc/a.txt", "hello");
        RawItem item = Sources.folder(dir, "x").findFirst().orElseThrow();
        assertThat(item.label()).isEmpty();
        assertThat(item.split()).isEmpty();
        assertThat(item.modality()).isEqualTo(Modality.TEXT);
        assertThat(new String(item.bytes().get(), StandardCharsets.UTF_8)).isEqualTo("hello");
    }

    @Test
    void danglingLinkIsListedAndFailsWhenRead() throws IOException {
        write("train/0/ok.png", "x");
        Files.createSymbolicLink(dir.resolve("train/0/gone.png"), dir.resolve("nowhere.png"));
        List<RawItem> items = Sources.folder(dir, "s").toList();
        assertThat(items).hasSize(2);
        RawItem gone = items.stream().filter(i -> i.id().endsWith("gone")).findFirst().orElseThrow();
        assertThatThrownBy(() -> gone.bytes().get()).isInstanceOf(IOException.class);
    }

    @Test
    void jsonlLinesBecomeTextRecordsAndBadLinesFailOnRead() throws IOException {
        Path f = write("train.jsonl", "{\"text\":\"a cat\",\"label\":\"noun.animal\"}\n\nnot json\n{\"label\":\"x\"}\n"
                + "{\"text\":\"b\",\"id\":\"custom/1\",\"split\":\"test\"}\n");
        List<RawItem> items = Sources.jsonl(f, "wn", Sources.splitFromFileName(f)).toList();
        assertThat(items).hasSize(4);
        assertThat(items.get(0).id()).isEqualTo("wn/1");
        assertThat(items.get(0).label()).contains("noun.animal");
        assertThat(items.get(0).split()).contains("train");
        assertThat(new String(items.get(0).bytes().get(), StandardCharsets.UTF_8)).isEqualTo("a cat");
        assertThatThrownBy(() -> items.get(1).bytes().get()).hasMessageContaining("line 3 is not valid JSON");
        assertThatThrownBy(() -> items.get(2).bytes().get()).hasMessageContaining("no \"text\"");
        assertThat(items.get(3).id()).isEqualTo("custom/1");
        assertThat(items.get(3).split()).contains("test");
    }

    @Test
    void missingFolderIsAClearError() {
        assertThatThrownBy(() -> Sources.folder(dir.resolve("nope"), "x")).hasMessageContaining("no such file or folder");
    }

    @Test
    void splitFromFileName() {
        assertThat(Sources.splitFromFileName(Path.of("a/test.jsonl"))).contains("test");
        assertThat(Sources.splitFromFileName(Path.of("corpus.jsonl"))).isEqualTo(Optional.empty());
    }
}
