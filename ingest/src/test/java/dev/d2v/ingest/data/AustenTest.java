package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AustenTest {

    @TempDir
    Path cache;

    @Test
    void paragraphsFollowChaptersAndBlankLines() {
        Austen.Book b = Austen.BOOKS.get(0);
        List<String> lines = List.of("TITLE", "", "By Jane Austen", "", "CHAPTER I", "", "", "It was a", "dark night.",
                "", "Yes.", "VOLUME II", "CHAPTER II", "Another", "one", "", "Chapter 3", "last words");
        List<Austen.Paragraph> ps = Austen.paragraphs(b, lines);
        assertThat(ps).extracting(Austen.Paragraph::text)
                .containsExactly("It was a dark night.", "Yes.", "Another one", "last words");
        assertThat(ps).extracting(Austen.Paragraph::chapter).containsExactly(1, 1, 2, 3);
        assertThat(ps).extracting(Austen.Paragraph::index).containsExactly(0, 1, 2, 3);
        assertThat(ps.get(0).words()).isEqualTo(5);
        assertThat(ps.get(0).id()).isEqualTo("austen/sense_and_sensibility/c1/p0");
    }

    @Test
    void splitRuleSendsEveryFifthChapterToTest() {
        assertThat(Austen.isTest(5)).isTrue();
        assertThat(Austen.isTest(10)).isTrue();
        assertThat(Austen.isTest(1)).isFalse();
        assertThat(Austen.isTest(7)).isFalse();
    }

    @Test
    void pureJavaDecoderMatchesR() throws IOException {
        assumeTrue(Files.isDirectory(Austen.DEFAULT_DIR), "r-cran-janeaustenr not installed");
        Austen austen = new Austen();
        Map<String, List<String>> pure = austen.loadPure();
        assertThat(pure.keySet()).containsExactly("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                "northangerabbey", "persuasion");
        pure.values().forEach(lines -> assertThat(lines.size()).isBetween(7_000, 20_000));
        assertThat(pure.get("prideprejudice")).contains("It is a truth universally acknowledged, that a single man in possession");
        assumeTrue(!DataFiles.toolVersion("Rscript", "--version").equals("unavailable"), "Rscript not installed");
        assertThat(austen.loadWithRscript()).isEqualTo(pure);
    }

    @Test
    void novelsSplitIntoChaptersAndParagraphs() throws IOException {
        assumeTrue(Files.isDirectory(Austen.DEFAULT_DIR), "r-cran-janeaustenr not installed");
        Map<String, List<String>> lines = new Austen().loadPure();
        // chapters per novel in these editions (Emma counts its three volumes through)
        Map<String, Integer> chapters = Map.of("sensesensibility", 50, "prideprejudice", 61, "mansfieldpark", 48,
                "emma", 55, "northangerabbey", 31, "persuasion", 24);
        for (Austen.Book b : Austen.BOOKS) {
            List<Austen.Paragraph> ps = Austen.paragraphs(b, lines.get(b.object()));
            assertThat(ps.get(ps.size() - 1).chapter()).as(b.title()).isEqualTo(chapters.get(b.object()));
            assertThat(ps.size()).as(b.title()).isBetween(700, 4_000);
            assertThat(ps).allMatch(p -> !p.text().isBlank() && !p.text().startsWith("CHAPTER"));
        }
    }

    @Test
    void fetchWritesSixClassProbe() throws IOException {
        assumeTrue(Files.isDirectory(Austen.DEFAULT_DIR), "r-cran-janeaustenr not installed");
        Manifest m = new Austen().fetch(new DataContext(cache, 1, 0, null));
        Path root = cache.resolve("austen");
        assertThat(m.classes()).isEqualTo(6);
        assertThat(m.toolVersions().get("decoder")).startsWith("java");
        List<String> test = Files.readAllLines(root.resolve("test.jsonl"));
        List<String> train = Files.readAllLines(root.resolve("train.jsonl"));
        assertThat(test).hasSize(m.counts().get("test"));
        assertThat((double) test.size() / (test.size() + train.size())).isBetween(0.12, 0.28);
        assertThat(test).allMatch(l -> l.matches(".*\"id\":\"austen/[a-z_]+/c\\d*[05]/p\\d+\".*"));
        assertThat(train).noneMatch(l -> l.matches(".*\"id\":\"austen/[a-z_]+/c\\d*[05]/p\\d+\".*"));
        for (Austen.Book b : Austen.BOOKS) {
            assertThat(test).anyMatch(l -> l.contains("\"label\":\"" + b.label() + "\""));
        }
        assertThat(m.counts().get("unlabeled")).isGreaterThan(m.counts().get("train") + m.counts().get("test"));
    }
}
