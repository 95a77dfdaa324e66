package dev.d2v.infra.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One evaluation figure: a checkpoint's encoder of one modality, on one probe task, under one protocol. The payload of
 * a d2v.eval event ({@link EvalEvent}), and in its own JSON form ({@link #toJson}, {@link #toJsonLine}) a line of
 * {@code d2v evaluate --json} and an entry of the evaluator's results files.
 *
 * @param checkpoint       checkpoint id (as in its CheckpointEvent)
 * @param step             its training step
 * @param modality         the encoder probed
 * @param task             probe task name, e.g. "fashion-mnist"
 * @param protocol         linear probe, k-NN or fine-tuning
 * @param accuracy         top-1 accuracy on the test split, in [0, 1]
 * @param baselineAccuracy the same protocol on a randomly initialised encoder of the same shape; NaN = not measured
 * @param rawAccuracy      the same protocol on the raw input features of the same records, no encoder; NaN = not
 *                         measured
 * @param extras           further numbers (chosen L2, k, seconds, train accuracy...), NaN allowed
 */
public record EvalResult(String checkpoint, long step, Modality modality, String task, Protocol protocol,
                         double accuracy, double baselineAccuracy, double rawAccuracy, Map<String, Double> extras) {
    /** The JSON field names of {@link #toJsonLine()}, in order: the {@code --json} contract (names only ever added). */
    public static final List<String> LINE_FIELDS = List.of(
            "checkpoint", "step", "modality", "task", "protocol", "accuracy", "baseline_accuracy", "raw_accuracy");

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

    public EvalResult {
        if (checkpoint == null || checkpoint.isBlank()) {
            throw new IllegalArgumentException("checkpoint is required");
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        Objects.requireNonNull(modality, "modality");
        if (task == null || task.isBlank()) {
            throw new IllegalArgumentException("task is required");
        }
        Objects.requireNonNull(protocol, "protocol");
        if (!(accuracy >= 0 && accuracy <= 1)) {
            throw new IllegalArgumentException("accuracy must be in [0, 1], got " + accuracy);
        }
        requireFractionOrNaN("baselineAccuracy", baselineAccuracy);
        requireFractionOrNaN("rawAccuracy", rawAccuracy);
        Map<String, Double> copy = new TreeMap<>();
        (extras == null ? Map.<String, Double>of() : extras).forEach((k, v) ->
                copy.put(Objects.requireNonNull(k, "extra name"), v == null ? Double.NaN : v));
        extras = Collections.unmodifiableMap(copy);
    }

    /** Without the raw-feature baseline (not measured). */
    public EvalResult(String checkpoint, long step, Modality modality, String task, Protocol protocol,
                      double accuracy, double baselineAccuracy, Map<String, Double> extras) {
        this(checkpoint, step, modality, task, protocol, accuracy, baselineAccuracy, Double.NaN, extras);
    }

    private static void requireFractionOrNaN(String what, double v) {
        if (!Double.isNaN(v) && !(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1] or NaN, got " + v);
        }
    }

    public boolean hasBaseline() {
        return !Double.isNaN(baselineAccuracy);
    }

    public boolean hasRaw() {
        return !Double.isNaN(rawAccuracy);
    }

    /** The same result with another baseline (measured once per task and attached to every checkpoint's result). */
    public EvalResult withBaseline(double baseline) {
        return new EvalResult(checkpoint, step, modality, task, protocol, accuracy, baseline, rawAccuracy, extras);
    }

    /** The same result with another raw-feature baseline (measured once per task, like the random-init one). */
    public EvalResult withRaw(double raw) {
        return new EvalResult(checkpoint, step, modality, task, protocol, accuracy, baselineAccuracy, raw, extras);
    }

    /**
     * Attaches the baseline figures (the same protocols evaluated on the random-init encoder, measured once per
     * task) to a checkpoint's results, matched by {@link #seriesKey()}; results without a matching baseline keep
     * theirs.
     */
    public static List<EvalResult> withBaselines(List<EvalResult> results, List<EvalResult> baselines) {
        Map<String, Double> bySeries = new TreeMap<>();
        baselines.forEach(b -> bySeries.put(b.seriesKey(), b.accuracy()));
        return results.stream()
                .map(r -> bySeries.containsKey(r.seriesKey()) ? r.withBaseline(bySeries.get(r.seriesKey())) : r)
                .toList();
    }

    /** (modality, task, protocol): what a plot line follows across checkpoints. */
    public String seriesKey() {
        return modality.id() + "/" + task + "/" + protocol.id();
    }

    // ---- JSON ----

    /**
     * The {@code --json} line: one object with exactly {@link #LINE_FIELDS}, baseline_accuracy and raw_accuracy
     * null when not measured, no trailing newline.
     */
    public String toJsonLine() {
        return lineNode().toString();
    }

    private ObjectNode lineNode() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("checkpoint", checkpoint);
        n.put("step", step);
        n.put("modality", modality.id());
        n.put("task", task);
        n.put("protocol", protocol.id());
        n.put("accuracy", accuracy);
        Json.putDouble(n, "baseline_accuracy", baselineAccuracy);
        Json.putDouble(n, "raw_accuracy", rawAccuracy);
        return n;
    }

    /** The line's fields plus {@code "extras"}: how results files store a result. */
    public ObjectNode toJson() {
        ObjectNode n = lineNode();
        ObjectNode e = n.putObject("extras");
        extras.forEach((k, v) -> Json.putDouble(e, k, v));
        return n;
    }

    /**
     * Reads {@link #toJson()} or {@link #toJsonLine()} output; a missing or mistyped field names itself. The
     * baselines may be null or absent (raw_accuracy is absent from files written before it existed): NaN.
     */
    public static EvalResult fromJson(JsonNode n) {
        Map<String, Double> extras = new TreeMap<>();
        JsonNode e = n.get("extras");
        if (e != null && e.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                extras.put(f.getKey(), f.getValue().isNumber() ? f.getValue().asDouble() : Double.NaN);
            }
        }
        return new EvalResult(text(n, "checkpoint"), number(n, "step").asLong(), Modality.parse(text(n, "modality")),
                text(n, "task"), Protocol.parse(text(n, "protocol")), number(n, "accuracy").asDouble(),
                optionalNumber(n, "baseline_accuracy"), optionalNumber(n, "raw_accuracy"), extras);
    }

    private static double optionalNumber(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? Double.NaN : number(n, field).asDouble();
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("eval result field '" + field + "' must be a string, got " + v);
        }
        return v.asText();
    }

    private static JsonNode number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("eval result field '" + field + "' must be a number, got " + v);
        }
        return v;
    }
}
