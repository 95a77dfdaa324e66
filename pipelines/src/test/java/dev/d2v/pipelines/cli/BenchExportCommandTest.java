package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.pipelines.CliRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchExportCommandTest {

    @TempDir
    Path dir;

    /** An untrained cpu-preset image checkpoint on a 48-image folder: the eight figures, each in its range. */
    @Test
    void printsTheExportFigures() throws Exception {
        Path task = ProbeImages.halves(dir.resolve("halves"));
        CliRun r = CliRun.of("bench", "export", "--task", task.toString(), "--rounds", "2", "--batches", "1,8");
        assertThat(r.code()).as(r.err()).isZero();
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            lines.add(json.readTree(line));
        }
        assertThat(lines).extracting(l -> l.get("name").asText() + l.path("batch").asText()).containsExactly(
                "int8_size_ratio", "onnx_vs_djl_max_abs_diff", "int8_cosine_min", "int8_probe_drop",
                "ort_fp32_vs_djl_speedup1", "int8_vs_fp32_speedup1", "ort_fp32_vs_djl_speedup8", "int8_vs_fp32_speedup8");
        assertThat(lines.get(0).get("value").asDouble()).isBetween(0.2, 0.35);
        assertThat(lines.get(1).get("value").asDouble()).isBetween(0.0, 1e-3);
        assertThat(lines.get(2).get("value").asDouble()).isBetween(0.99, 1.0);
        assertThat(lines.get(3).get("fp32_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(lines).allSatisfy(l -> assertThat(l.get("cpu_model").asText()).isNotEmpty());
        assertThat(lines.subList(4, 8)).allSatisfy(l -> assertThat(l.get("value").asDouble()).isPositive());
    }

    @Test
    void aBatchAboveTheProbesIsAUsageError() {
        CliRun r = CliRun.of("bench", "export", "--batches", "1,128");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--batches");
    }
}
