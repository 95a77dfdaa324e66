package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.pipelines.CliRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchEvaluateCommandTest {

    @TempDir
    Path dir;

    /** A fresh untrained cpu-preset checkpoint on a 48-image folder, both backends: one line per stage. */
    @Test
    void printsOneLinePerStageWithBothBackendsSideBySide() throws Exception {
        Path task = ProbeImages.halves(dir.resolve("halves"));
        CliRun r = CliRun.of("bench", "evaluate", "--task", task.toString(), "--backends", "torch,java",
                "--batch", "16", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            lines.add(json.readTree(line));
        }
        assertThat(lines).extracting(l -> l.get("name").asText() + ":" + l.path("features").asText() + ":"
                + l.path("backend").asText()).containsExactly(
                "eval_load_task_s::", "eval_features_s:checkpoint:", "eval_features_s:random_init:", "eval_features_s:raw:",
                "eval_linear_s:checkpoint:torch", "eval_knn_s:checkpoint:torch",
                "eval_linear_s:checkpoint:java", "eval_knn_s:checkpoint:java",
                "eval_linear_s:random_init:torch", "eval_knn_s:random_init:torch",
                "eval_linear_s:random_init:java", "eval_knn_s:random_init:java",
                "eval_linear_s:raw:torch", "eval_knn_s:raw:torch",
                "eval_linear_s:raw:java", "eval_knn_s:raw:java",
                "eval_total_s:all:");
        assertThat(lines).allSatisfy(l -> {
            assertThat(l.get("value").asDouble()).isGreaterThanOrEqualTo(0);
            assertThat(l.has("cpu_s")).isTrue();
            assertThat(l.get("cpu_model").asText()).isNotEmpty();
            assertThat(l.has("avx512")).isTrue();
        });
        assertThat(lines.get(0).get("train_rows").asInt()).isEqualTo(32);
        assertThat(lines.get(3).get("dims").asInt()).isEqualTo(784);
        // the cpu preset (D 192, 4 blocks) read as the evaluation reads it: the linear probe the layers (5 x 192), the
        // k-NN the last block's 192
        assertThat(lines.get(1).get("dims").asInt()).isEqualTo(960);
        assertThat(lines.get(4).get("dims").asInt()).isEqualTo(960);
        assertThat(lines.get(5).get("dims").asInt()).isEqualTo(192);
        // raw pixels separate the halves; the k-NN backends agree exactly, the linear probes to float rounding
        assertThat(lines.get(12).get("accuracy").asDouble()).isEqualTo(1.0);
        for (int i = 4; i < 16; i += 4) {
            assertThat(lines.get(i + 1).get("accuracy")).isEqualTo(lines.get(i + 3).get("accuracy"));
            assertThat(lines.get(i).get("accuracy").asDouble()).isCloseTo(lines.get(i + 2).get("accuracy").asDouble(),
                    within(1.0 / 16 + 1e-9));
        }
    }

    @Test
    void unknownBackendIsAUsageError() {
        CliRun r = CliRun.of("bench", "evaluate", "--backends", "gpu");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown backend 'gpu'");
    }
}
