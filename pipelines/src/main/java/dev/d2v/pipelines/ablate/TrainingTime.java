package dev.d2v.pipelines.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Time spent in training steps, from a run's metrics.jsonl (one line per optimizer step with {@code step} and
 * {@code step_ms}). A resumed run appends the steps it redoes after its checkpoint; the last line of a step counts,
 * as for every reader of the file. Start-up, data loading and checkpoint writes are not in it, so the figure is the
 * same for a run trained at once or in parts.
 */
public final class TrainingTime {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Step (0-based, as in the file) to its time in ms. */
    private final TreeMap<Long, Double> stepMs;

    private TrainingTime(TreeMap<Long, Double> stepMs) {
        this.stepMs = stepMs;
    }

    /** The file's steps; none when it does not exist. Lines without both fields are skipped. */
    public static TrainingTime read(Path metricsJsonl) throws IOException {
        TreeMap<Long, Double> ms = new TreeMap<>();
        if (Files.exists(metricsJsonl)) {
            for (String line : Files.readAllLines(metricsJsonl, StandardCharsets.UTF_8)) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException cutOff) {
                    continue;
                }
                if (n != null && n.path("step").isNumber() && n.path("step_ms").isNumber()) {
                    ms.put(n.get("step").asLong(), n.get("step_ms").asDouble());
                }
            }
        }
        return new TrainingTime(ms);
    }

    /** Minutes of the steps before a checkpoint at {@code step} (the steps 0 .. step-1 it holds). */
    public double minutesUntil(long step) {
        double ms = 0;
        for (Map.Entry<Long, Double> e : stepMs.headMap(step).entrySet()) {
            ms += e.getValue();
        }
        return ms / 60_000.0;
    }
}
