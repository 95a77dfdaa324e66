package dev.d2v.infra.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.time.Instant;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One record on d2v.eval: the result of evaluating one checkpoint on one modality's task with one protocol.
 * Versioned JSON, see infra/WIRE.md.
 *
 * @param checkpointId     the checkpoint evaluated (as in its {@link CheckpointEvent})
 * @param step             its step
 * @param modality         which encoder was probed
 * @param task             dataset/task name, e.g. "mnist", "speech-commands", "ag-news"
 * @param protocol         linear probe, k-nearest-neighbours or fine-tuning
 * @param accuracy         top-1 accuracy on the test split, in [0, 1]
 * @param baselineAccuracy the same protocol on a reference (e.g. a randomly initialised encoder), in [0, 1];
 *                         NaN = none measured (null in JSON)
 * @param metrics          further numbers (loss, top-5, seconds...); NaN allowed (null in JSON)
 * @param createdAt        when the evaluation finished
 */
public record EvalEvent(
        String checkpointId,
        long step,
        Modality modality,
        String task,
        Protocol protocol,
        double accuracy,
        double baselineAccuracy,
        Map<String, Double> metrics,
        Instant createdAt) {

    public static final int VERSION = 1;
    static final String KIND = "eval";

    /** How the representation was evaluated; the JSON value is {@link #id()}. */
    public enum Protocol {
        LINEAR, KNN, FINETUNE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Protocol parse(String s) {
            for (Protocol p : values()) {
                if (p.id().equalsIgnoreCase(s.trim())) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown protocol '" + s + "': expected linear, knn or finetune");
        }
    }

    public EvalEvent {
        if (checkpointId == null || checkpointId.isBlank()) {
            throw new IllegalArgumentException("checkpointId is required");
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        Objects.requireNonNull(modality, "modality");
        if (task == null || task.isBlank()) {
            throw new IllegalArgumentException("task is required");
        }
        Objects.requireNonNull(protocol, "protocol");
        requireFraction("accuracy", accuracy, false);
        requireFraction("baselineAccuracy", baselineAccuracy, true);
        Objects.requireNonNull(createdAt, "createdAt");
        Map<String, Double> copy = new TreeMap<>();
        (metrics == null ? Map.<String, Double>of() : metrics).forEach((k, v) -> copy.put(
                Objects.requireNonNull(k, "metric name"), v == null ? Double.NaN : v));
        metrics = Collections.unmodifiableMap(copy);
    }

    private static void requireFraction(String what, double v, boolean nanAllowed) {
        if (Double.isNaN(v) ? !nanAllowed : v < 0 || v > 1) {
            throw new IllegalArgumentException(what + " must be in [0, 1]" + (nanAllowed ? " or NaN" : "") + ", got " + v);
        }
    }

    public boolean hasBaseline() {
        return !Double.isNaN(baselineAccuracy);
    }

    // ---- JSON ----

    public byte[] toJson() {
        ObjectNode n = Json.object(KIND, VERSION);
        n.put("checkpointId", checkpointId);
        n.put("step", step);
        n.put("modality", modality.id());
        n.put("task", task);
        n.put("protocol", protocol.id());
        n.put("accuracy", accuracy);
        Json.putDouble(n, "baselineAccuracy", baselineAccuracy);
        ObjectNode m = n.putObject("metrics");
        metrics.forEach((k, v) -> Json.putDouble(m, k, v));
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
