package dev.d2v.infra.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One record on d2v.eval: an {@link EvalResult} (one checkpoint, one modality's task, one protocol) and when it was
 * finished. Versioned JSON, see infra/WIRE.md.
 *
 * <p>Version 1 has a field for one baseline, the random-init encoder's ({@code baselineAccuracy}); the raw-feature
 * baseline travels among the metrics as {@value #RAW_ACCURACY_METRIC}, and the result's extras are the other metrics.
 *
 * @param result    the figure
 * @param createdAt when the evaluation finished
 */
public record EvalEvent(EvalResult result, Instant createdAt) {

    public static final int VERSION = 1;
    static final String KIND = "eval";

    /** The metric that carries {@link EvalResult#rawAccuracy} in version 1 (absent = not measured). */
    public static final String RAW_ACCURACY_METRIC = "raw_accuracy";

    public EvalEvent {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /**
     * An event from version 1's fields.
     *
     * @param checkpointId     the checkpoint evaluated (as in its {@link CheckpointEvent})
     * @param step             its step
     * @param modality         which encoder was probed
     * @param task             dataset/task name, e.g. "mnist", "speech-commands", "ag-news"
     * @param protocol         linear probe, k-nearest-neighbours or fine-tuning
     * @param accuracy         top-1 accuracy on the test split, in [0, 1]
     * @param baselineAccuracy the same protocol on a randomly initialised encoder of the same shape, in [0, 1];
     *                         NaN = none measured (null in JSON)
     * @param metrics          further numbers (loss, top-5, seconds...), NaN allowed (null in JSON);
     *                         {@value #RAW_ACCURACY_METRIC} becomes the result's raw-feature baseline
     * @param createdAt        when the evaluation finished
     */
    public EvalEvent(String checkpointId, long step, Modality modality, String task, Protocol protocol, double accuracy,
                     double baselineAccuracy, Map<String, Double> metrics, Instant createdAt) {
        this(result(checkpointId, step, modality, task, protocol, accuracy, baselineAccuracy, metrics), createdAt);
    }

    private static EvalResult result(String checkpointId, long step, Modality modality, String task, Protocol protocol,
                                     double accuracy, double baselineAccuracy, Map<String, Double> metrics) {
        Map<String, Double> extras = new TreeMap<>();
        if (metrics != null) {
            metrics.forEach((k, v) -> extras.put(Objects.requireNonNull(k, "metric name"), v));
        }
        Double raw = extras.remove(RAW_ACCURACY_METRIC);
        return new EvalResult(checkpointId, step, modality, task, protocol, accuracy, baselineAccuracy,
                raw == null ? Double.NaN : raw, extras);
    }

    /** The record key on d2v.eval. */
    public String checkpointId() {
        return result.checkpoint();
    }

    /** Version 1's metrics: the result's extras, plus {@value #RAW_ACCURACY_METRIC} when it was measured. */
    public Map<String, Double> metrics() {
        Map<String, Double> metrics = new TreeMap<>(result.extras());
        if (result.hasRaw()) {
            metrics.put(RAW_ACCURACY_METRIC, result.rawAccuracy());
        }
        return metrics;
    }

    // ---- JSON ----

    public byte[] toJson() {
        ObjectNode n = Json.object(KIND, VERSION);
        n.put("checkpointId", result.checkpoint());
        n.put("step", result.step());
        n.put("modality", result.modality().id());
        n.put("task", result.task());
        n.put("protocol", result.protocol().id());
        n.put("accuracy", result.accuracy());
        Json.putDouble(n, "baselineAccuracy", result.baselineAccuracy());
        ObjectNode m = n.putObject("metrics");
        metrics().forEach((k, v) -> Json.putDouble(m, k, v));
        n.put("createdAt", createdAt.toString());
        return Json.bytes(n);
    }

    /** Decodes any version this build knows; unknown versions and malformed JSON throw {@link WireFormatException}. */
    public static EvalEvent fromJson(byte[] json) {
        JsonNode n = Json.parse(json, KIND);
        int version = n.get("version").asInt();
        return switch (version) {
            case 1 -> v1(n);
            default -> throw Json.unknownVersion(KIND, version, VERSION);
        };
    }

    private static EvalEvent v1(JsonNode n) {
        try {
            Json.required(n, "accuracy", KIND); // null is only allowed for the baseline
            double accuracy = Json.doubleOrNaN(n, "accuracy", KIND);
            return new EvalEvent(
                    Json.text(n, "checkpointId", KIND),
                    Json.longValue(n, "step", KIND),
                    Modality.parse(Json.text(n, "modality", KIND)),
                    Json.text(n, "task", KIND),
                    Protocol.parse(Json.text(n, "protocol", KIND)),
                    accuracy,
                    Json.doubleOrNaN(n, "baselineAccuracy", KIND),
                    Json.doubleMap(n, "metrics", KIND),
                    Json.instant(n, "createdAt", KIND));
        } catch (IllegalArgumentException e) {
            throw new WireFormatException("invalid eval event: " + e.getMessage(), e);
        }
    }
}
