package dev.d2v.evaluate.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.infra.wire.EvalResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalResultTest {
    static final EvalResult LINEAR = new EvalResult("step-000001200", 1200, Modality.IMAGE, "fashion-mnist",
            Protocol.LINEAR, 0.8612, 0.7031, Map.of("l2", 0.01, "fit_s", 12.5));
    static final EvalResult KNN_NO_BASELINE = new EvalResult("step-000001200", 1200, Modality.IMAGE, "fashion-mnist",
            Protocol.KNN, 0.84, Double.NaN, Map.of("k", 20.0));
    static final EvalResult LINEAR_WITH_RAW = LINEAR.withRaw(0.8237);

    @TempDir
    Path dir;

    @Test
    void jsonLineHasExactlyTheContractNames() throws IOException {
        JsonNode n = new ObjectMapper().readTree(LINEAR.toJsonLine());
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        assertThat(names).containsExactlyElementsOf(EvalResult.LINE_FIELDS)
                .containsExactly("checkpoint", "step", "modality", "task", "protocol", "accuracy", "baseline_accuracy",
                        "raw_accuracy");
        assertThat(LINEAR_WITH_RAW.toJsonLine()).isEqualTo("{\"checkpoint\":\"step-000001200\",\"step\":1200,"
                + "\"modality\":\"image\",\"task\":\"fashion-mnist\",\"protocol\":\"linear\",\"accuracy\":0.8612,"
                + "\"baseline_accuracy\":0.7031,\"raw_accuracy\":0.8237}");
        assertThat(KNN_NO_BASELINE.toJsonLine()).contains("\"protocol\":\"knn\"")
                .endsWith("\"baseline_accuracy\":null,\"raw_accuracy\":null}").doesNotContain("\n");
    }

    @Test
    void jsonRoundTripKeepsExtrasAndMissingBaseline() {
        assertThat(EvalResult.fromJson(LINEAR.toJson())).isEqualTo(LINEAR);
        EvalResult back = EvalResult.fromJson(KNN_NO_BASELINE.toJson());
        assertThat(back.hasBaseline()).isFalse();
        assertThat(back.extras()).isEqualTo(Map.of("k", 20.0));
        assertThatThrownBy(() -> EvalResult.fromJson(new ObjectMapper().createObjectNode().put("checkpoint", "x")))
                .hasMessageContaining("'step' must be a number");
    }

    @Test
    void rawBaselineSurvivesJsonEventsAndResultsFiles() throws IOException {
        EvalResult back = EvalResult.fromJson(LINEAR_WITH_RAW.toJson());
        assertThat(back).isEqualTo(LINEAR_WITH_RAW);
        assertThat(back.rawAccuracy()).isEqualTo(0.8237);
        assertThat(back.withBaseline(0.5).rawAccuracy()).as("attaching the random-init figure keeps the raw one")
                .isEqualTo(0.8237);
        assertThat(EvalResult.fromJson(new ObjectMapper().readTree(LINEAR_WITH_RAW.toJsonLine())).rawAccuracy())
                .isEqualTo(0.8237);
        assertThat(LINEAR.hasRaw()).isFalse();

        // a results file written before raw_accuracy existed reads as "not measured"
        ObjectNode old = LINEAR.toJson();
        old.remove("raw_accuracy");
        assertThat(EvalResult.fromJson(old)).isEqualTo(LINEAR);

        Path file = ResultsFile.write(dir, List.of(LINEAR_WITH_RAW, KNN_NO_BASELINE));
        assertThat(ResultsFile.read(file)).containsExactly(LINEAR_WITH_RAW, KNN_NO_BASELINE);
        assertThat(Files.readString(file)).contains("\"raw_accuracy\" : 0.8237");

        // d2v.eval (version 1) carries it among the metrics, and decoding takes it back out
        EvalEvent e = EvalEvent.fromJson(new EvalEvent(LINEAR_WITH_RAW, Instant.parse("2026-11-28T20:00:00Z")).toJson());
        assertThat(e.metrics()).containsEntry(EvalEvent.RAW_ACCURACY_METRIC, 0.8237);
        assertThat(e.result()).isEqualTo(LINEAR_WITH_RAW);
        assertThat(e.result().extras()).doesNotContainKey(EvalEvent.RAW_ACCURACY_METRIC);

        assertThatThrownBy(() -> LINEAR.withRaw(1.5)).hasMessageContaining("rawAccuracy must be in [0, 1] or NaN");
    }

    @Test
    void baselinesAttachBySeries() {
        EvalResult randomInitKnn = new EvalResult("random-init", 0, Modality.IMAGE, "fashion-mnist", Protocol.KNN,
                0.61, Double.NaN, Map.of());
        List<EvalResult> with = EvalResult.withBaselines(List.of(LINEAR, KNN_NO_BASELINE), List.of(randomInitKnn));
        assertThat(with.get(0)).isEqualTo(LINEAR); // no linear baseline given: keeps its own
        assertThat(with.get(1).baselineAccuracy()).isEqualTo(0.61);
        assertThat(with.get(1).accuracy()).isEqualTo(KNN_NO_BASELINE.accuracy());
    }

    @Test
    void eventConversionUsesInfrasCodec() {
        Instant at = Instant.parse("2026-11-28T20:00:00Z");
        EvalEvent e = new EvalEvent(LINEAR, at);
        assertThat(e.metrics()).isEqualTo(LINEAR.extras());
        EvalEvent decoded = EvalEvent.fromJson(e.toJson());
        assertThat(decoded.result()).isEqualTo(LINEAR);
        assertThat(EvalEvent.fromJson(new EvalEvent(KNN_NO_BASELINE, at).toJson()).result().hasBaseline()).isFalse();
    }

    @Test
    void resultsFileMergesProtocolsOfOneCheckpoint() throws IOException {
        Path file = ResultsFile.write(dir, List.of(LINEAR));
        assertThat(file).isEqualTo(dir.resolve("step-000001200.json"));
        ResultsFile.merge(dir, List.of(KNN_NO_BASELINE));
        EvalResult better = new EvalResult(LINEAR.checkpoint(), LINEAR.step(), LINEAR.modality(), LINEAR.task(),
                Protocol.LINEAR, 0.87, 0.70, Map.of());
        ResultsFile.merge(dir, List.of(better));
        assertThat(ResultsFile.read(file)).containsExactly(better, KNN_NO_BASELINE);
        assertThat(Files.readString(file)).contains("\"kind\" : \"eval-results\"", "\"version\" : 1");
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("step-000001200.json"); // no temp files left
        }
    }

    @Test
    void readAllSortsByStepAndReportsBadFiles() throws IOException {
        EvalResult later = new EvalResult("step-000002400", 2400, Modality.IMAGE, "fashion-mnist", Protocol.LINEAR,
                0.88, 0.70, Map.of());
        ResultsFile.write(dir, List.of(later));
        ResultsFile.write(dir, List.of(LINEAR, KNN_NO_BASELINE));
        Files.writeString(dir.resolve("broken.json"), "{\"version\": 7, \"kind\": \"eval-results\"}");
        List<String> problems = new ArrayList<>();
        assertThat(ResultsFile.readAll(dir, problems)).containsExactly(KNN_NO_BASELINE, LINEAR, later);
        assertThat(problems).singleElement().asString().contains("unknown results file version 7");
        assertThatThrownBy(() -> ResultsFile.write(dir, List.of(LINEAR, later))).hasMessageContaining("one checkpoint");
    }
}
