package dev.d2v.evaluate.promote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.infra.wire.PromotionEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The best checkpoint per modality by one metric, with the minimum gain, the state file and the current link. */
class PromoterTest {

    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    /** An exporter that writes a marker file naming the checkpoint (what a package would hold). */
    private static final Promoter.Exporter MARKER = (checkpoint, m, folder) -> {
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("from.txt"), checkpoint.getFileName() + " " + m.id());
    };

    private static List<EvalResult> results(String id, long step, double linear, double knn) {
        return List.of(
                new EvalResult(id, step, Modality.IMAGE, "fashion-mnist", Protocol.LINEAR, linear, 0.77, 0.84, Map.of()),
                new EvalResult(id, step, Modality.IMAGE, "fashion-mnist", Protocol.KNN, knn, 0.5, 0.85, Map.of()),
                new EvalResult(id, step, Modality.IMAGE, "mnist", Protocol.LINEAR, 0.99, 0.8, 0.9, Map.of()));
    }

    private Promoter promoter(Path export) throws Exception {
        return new Promoter(Promoter.Policy.parse("fashion-mnist:linear", 0.005, export), dir.resolve("eval"), MARKER, log::add);
    }

    private String current() throws Exception {
        return Files.readString(dir.resolve("promoted").resolve("image").resolve("current").resolve("from.txt"));
    }

    @Test
    void promotesTheFirstThenOnlyWhatBeatsTheBestByTheGain() throws Exception {
        Promoter p = promoter(dir.resolve("promoted"));
        List<PromotionEvent> first = p.consider(dir.resolve("step-000000100"), results("c100", 100, 0.84, 0.9));
        assertThat(first).singleElement().satisfies(e -> {
            assertThat(e.checkpointId()).isEqualTo("c100");
            assertThat(e.previousCheckpoint()).isNull();
            assertThat(e.exportPackage()).endsWith("/image/c100");
        });
        assertThat(current()).isEqualTo("step-000000100 image");

        // worse, then better by less than half a point: neither is promoted
        assertThat(p.consider(dir.resolve("step-000000200"), results("c200", 200, 0.83, 0.99))).isEmpty();
        assertThat(p.consider(dir.resolve("step-000000300"), results("c300", 300, 0.8449, 0.99))).isEmpty();
        assertThat(current()).isEqualTo("step-000000100 image");

        List<PromotionEvent> second = p.consider(dir.resolve("step-000000400"), results("c400", 400, 0.846, 0.5));
        assertThat(second).singleElement().satisfies(e -> {
            assertThat(e.previousCheckpoint()).isEqualTo("c100");
            assertThat(e.previousAccuracy()).isEqualTo(0.84);
        });
        Path image = dir.resolve("promoted").resolve("image");
        assertThat(current()).isEqualTo("step-000000400 image");
        assertThat(Files.readSymbolicLink(image.resolve("previous"))).isEqualTo(Path.of("c100"));
        assertThat(Files.readString(image.resolve("previous").resolve("from.txt"))).isEqualTo("step-000000100 image");

        // a third: the oldest package goes, current and previous stay
        p.consider(dir.resolve("step-000000500"), results("c500", 500, 0.86, 0.5));
        assertThat(image.resolve("c100")).doesNotExist();
        assertThat(image.resolve("c400")).isDirectory();
        assertThat(Files.readSymbolicLink(image.resolve("current"))).isEqualTo(Path.of("c500"));

        // a restarted evaluator knows the best so far
        Promoter again = promoter(dir.resolve("promoted"));
        assertThat(again.best().get(Modality.IMAGE).checkpointId()).isEqualTo("c500");
        assertThat(again.consider(dir.resolve("step-000000600"), results("c600", 600, 0.86, 0.5))).isEmpty();
    }

    @Test
    void withoutAnExportRootOnlyTheStateAndTheEventAndAnotherMetricStartsOver() throws Exception {
        Promoter p = promoter(null);
        assertThat(p.consider(dir.resolve("step-000000100"), results("c100", 100, 0.84, 0.9)))
                .singleElement().satisfies(e -> assertThat(e.exportPackage()).isNull());
        assertThat(dir.resolve("eval").resolve(Promoter.STATE)).isRegularFile();
        Promoter byKnn = new Promoter(Promoter.Policy.parse("fashion-mnist:knn", 0, null), dir.resolve("eval"), null, log::add);
        assertThat(byKnn.best()).isEmpty();
        assertThat(log).anyMatch(l -> l.contains("starting over"));
    }

    @Test
    void aFailedExportLeavesTheCurrentPackageAndTheBestAsTheyWere() throws Exception {
        Promoter p = promoter(dir.resolve("promoted"));
        p.consider(dir.resolve("step-000000100"), results("c100", 100, 0.84, 0.9));
        Promoter failing = new Promoter(Promoter.Policy.parse("fashion-mnist:linear", 0.005, dir.resolve("promoted")),
                dir.resolve("eval"), (c, m, f) -> {
                    Files.createDirectories(f);
                    throw new IllegalStateException("disk full");
                }, log::add);
        assertThatThrownBy(() -> failing.consider(dir.resolve("step-000000200"), results("c200", 200, 0.9, 0.9)))
                .hasMessageContaining("disk full");
        assertThat(current()).isEqualTo("step-000000100 image");
        assertThat(promoter(dir.resolve("promoted")).best().get(Modality.IMAGE).checkpointId()).isEqualTo("c100");
    }

    @Test
    void aMetricIsTaskColonProtocol() {
        assertThatThrownBy(() -> Promoter.Policy.parse("fashion-mnist", 0, null)).hasMessageContaining("TASK:PROTOCOL");
        assertThatThrownBy(() -> Promoter.Policy.parse("fashion-mnist:best", 0, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Promoter.Policy.parse("fashion-mnist:linear", 1.5, null)).hasMessageContaining("minimum gain");
        assertThat(Promoter.Policy.parse("/data/my:task:knn", 0, null).task()).isEqualTo("/data/my:task");
    }
}
