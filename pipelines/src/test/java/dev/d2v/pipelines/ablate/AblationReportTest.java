package dev.d2v.pipelines.ablate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary (mean and spread over seeds at each run's last checkpoint), the page, the line format. */
class AblationReportTest {

    static AblationLine line(String k, long seed, long step, Protocol p, double acc, double baseline, double raw) {
        String variant = "image.targets.average_top_k_layers=" + k;
        return new AblationLine(variant, Map.of("image.targets.average_top_k_layers", k), seed,
                variant + "-seed" + seed, step / 100.0,
                new EvalResult("step-" + step, step, Modality.IMAGE, "mnist", p, acc, baseline, raw, Map.of("fit_s", 1.5)));
    }

    static List<AblationLine> sweep() {
        List<AblationLine> out = new ArrayList<>();
        // K=1: seeds 1 and 2 end at 0.70 and 0.80 (mean 0.75, sd 0.0707); K=4: one seed, 0.90
        out.add(line("1", 1, 5, Protocol.LINEAR, 0.60, 0.50, 0.40));
        out.add(line("1", 1, 10, Protocol.LINEAR, 0.70, 0.50, 0.40));
        out.add(line("1", 2, 5, Protocol.LINEAR, 0.62, 0.52, 0.40));
        out.add(line("1", 2, 10, Protocol.LINEAR, 0.80, 0.52, 0.40));
        out.add(line("4", 1, 5, Protocol.LINEAR, 0.85, 0.50, 0.40));
        out.add(line("4", 1, 10, Protocol.LINEAR, 0.90, 0.50, 0.40));
        out.add(line("4", 1, 10, Protocol.KNN, 0.88, 0.45, 0.35));
        return out;
    }

    @Test
    void summaryTakesEachSeedsLastCheckpoint() {
        List<AblationReport.Row> rows = AblationReport.summarize(sweep());
        assertThat(rows).extracting(r -> r.variant() + "/" + r.protocol().id()).containsExactly(
                "image.targets.average_top_k_layers=1/linear", "image.targets.average_top_k_layers=4/linear",
                "image.targets.average_top_k_layers=4/knn");
        AblationReport.Row k1 = rows.get(0);
        assertThat(k1.steps()).containsExactly(10L, 10L);
        assertThat(k1.mean()).isCloseTo(0.75, within(1e-12));
        assertThat(k1.sd()).isCloseTo(Math.sqrt(2 * 0.05 * 0.05), within(1e-12));
        assertThat(k1.baseline()).isCloseTo(0.51, within(1e-12));
        assertThat(k1.gain()).isCloseTo(0.24, within(1e-12));
        assertThat(rows.get(1).sd()).isNaN();

        String table = AblationReport.terminalTable(sweep());
        assertThat(table).contains("accuracy (± sd)").contains("75.0% ± 7.1").contains("51.0%").contains("40.0%")
                .contains("+24.0").contains("90.0%");
        assertThat(table.lines().filter(l -> l.startsWith("image.targets")).count()).isEqualTo(3);
    }

    @Test
    void curvesAverageTheKthCheckpointOverSeeds() {
        List<AblationLine> all = sweep();
        List<List<AblationLine>> runs = List.of(all.subList(0, 2), List.of(all.get(2), all.get(3), line("1", 2, 15,
                Protocol.LINEAR, 0.9, 0.5, 0.4)));
        assertThat(AblationReport.averagedByCheckpoint(runs)).extracting(p -> p.x() + ":" + Math.round(p.y() * 100))
                .containsExactly("5.0:61", "10.0:75", "15.0:90");
    }

    @Test
    void pageHasAPlotPerTaskAndProtocolWithALinePerVariant() {
        String html = AblationReport.html("d2v ablation: k", "image on mnist", sweep(), List.of("a <problem>"), Instant.EPOCH);
        assertThat(html).contains("<h1>d2v ablation: k</h1>").contains("a &lt;problem&gt;");
        assertThat(html.split("<svg", -1)).hasSize(3); // mnist/linear and mnist/knn
        assertThat(html).contains("data-name=\"image.targets.average_top_k_layers=1\" data-count=\"2\"")
                .contains("data-name=\"image.targets.average_top_k_layers=4\" data-count=\"2\"")
                .contains("data-name=\"image.targets.average_top_k_layers=4, random init\"")
                .contains("data-name=\"raw features\"")
                .doesNotContain("<script").doesNotContain("http://www.w3.org/1999");
    }

    @Test
    void linesRoundTripAndACutOffLineIsSkipped(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ablation.jsonl");
        AblationLine.append(file, sweep().subList(0, 2));
        Files.writeString(file, Files.readString(file) + "{\"variant\": \"cut\n");
        AblationLine.append(file, sweep().subList(2, 3));
        List<String> problems = new ArrayList<>();
        List<AblationLine> back = AblationLine.readAll(file, problems);
        assertThat(back).containsExactlyElementsOf(sweep().subList(0, 3));
        assertThat(problems).singleElement().asString().contains("line 3");
        JsonNode n = new ObjectMapper().readTree(Files.readAllLines(file).get(0));
        assertThat(n.get("variant").asText()).isEqualTo("image.targets.average_top_k_layers=1");
        assertThat(n.get("overrides").get("image.targets.average_top_k_layers").asText()).isEqualTo("1");
        assertThat(n.get("seed").asLong()).isEqualTo(1);
        assertThat(n.get("pretrain_minutes").asDouble()).isEqualTo(0.05);
        for (String f : EvalResult.LINE_FIELDS) {
            assertThat(n.has(f)).as(f).isTrue();
        }
    }

    @Test
    void trainingTimeSumsTheLastLineOfEachStepBeforeTheCheckpoint(@TempDir Path dir) throws IOException {
        Path metrics = dir.resolve("metrics.jsonl");
        Files.writeString(metrics, """
                {"step": 0, "step_ms": 1000}
                {"step": 1, "step_ms": 2000}
                {"step": 2, "step_ms": 9000}
                {"step": 2, "step_ms": 3000}
                {"step": 3, "step_ms": 60000}
                not json
                """);
        TrainingTime t = TrainingTime.read(metrics);
        assertThat(t.minutesUntil(3)).isCloseTo(6000 / 60_000.0, within(1e-12)); // resumed: step 2 redone in 3 s
        assertThat(t.minutesUntil(0)).isZero();
        assertThat(TrainingTime.read(dir.resolve("none.jsonl")).minutesUntil(10)).isZero();
    }
}
