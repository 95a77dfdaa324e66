package dev.d2v.infra.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;

/**
 * One record on d2v.promotions: the evaluator found a checkpoint better than every earlier one of its modality on the
 * promotion metric (a task and protocol) by at least the configured gain. Versioned JSON, see infra/WIRE.md.
 *
 * @param modality           the encoder promoted
 * @param checkpointId       the checkpoint (as in its {@link CheckpointEvent})
 * @param step               its step
 * @param location           its folder
 * @param task               the probe task of the metric
 * @param protocol           the protocol of the metric
 * @param accuracy           the checkpoint's accuracy on it, in [0, 1]
 * @param previousCheckpoint the checkpoint promoted before, or null for the first promotion
 * @param previousAccuracy   its accuracy, NaN for the first promotion (null in JSON)
 * @param exportPackage      the exported package's folder, or null when promotions are not exported
 * @param promotedAt         when
 */
public record PromotionEvent(Modality modality, String checkpointId, long step, String location, String task,
                             Protocol protocol, double accuracy, String previousCheckpoint, double previousAccuracy,
                             String exportPackage, Instant promotedAt) {

    public static final int VERSION = 1;
    static final String KIND = "promotion";

    public PromotionEvent {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(checkpointId, "checkpointId");
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(promotedAt, "promotedAt");
    }

    /** The record key: the modality, so that one modality's promotions stay in order. */
    public byte[] key() {
        return modality.id().getBytes(StandardCharsets.UTF_8);
    }

    public byte[] toJson() {
        ObjectNode n = Json.object(KIND, VERSION);
        n.put("modality", modality.id());
        n.put("checkpointId", checkpointId);
        n.put("step", step);
        n.put("location", location);
        n.put("task", task);
        n.put("protocol", protocol.id());
        n.put("accuracy", accuracy);
        if (previousCheckpoint == null) {
            n.putNull("previousCheckpoint");
        } else {
            n.put("previousCheckpoint", previousCheckpoint);
        }
        Json.putDouble(n, "previousAccuracy", previousAccuracy);
        if (exportPackage == null) {
            n.putNull("exportPackage");
        } else {
            n.put("exportPackage", exportPackage);
        }
        n.put("promotedAt", promotedAt.toString());
        return Json.bytes(n);
    }

    /** Decodes any version this build knows; unknown versions and malformed JSON throw {@link WireFormatException}. */
    public static PromotionEvent fromJson(byte[] json) {
        JsonNode n = Json.parse(json, KIND);
        int version = n.get("version").asInt();
        if (version != 1) {
            throw Json.unknownVersion(KIND, version, VERSION);
        }
        try {
            Json.required(n, "accuracy", KIND);   // null is only allowed for the previous accuracy
            return new PromotionEvent(
                    Modality.parse(Json.text(n, "modality", KIND)),
                    Json.text(n, "checkpointId", KIND),
                    Json.longValue(n, "step", KIND),
                    Json.text(n, "location", KIND),
                    Json.text(n, "task", KIND),
                    Protocol.parse(Json.text(n, "protocol", KIND)),
                    Json.doubleOrNaN(n, "accuracy", KIND),
                    nullableText(n, "previousCheckpoint"),
                    Json.doubleOrNaN(n, "previousAccuracy", KIND),
                    nullableText(n, "exportPackage"),
                    Json.instant(n, "promotedAt", KIND));
        } catch (IllegalArgumentException e) {
            throw new WireFormatException("invalid promotion event: " + e.getMessage(), e);
        }
    }

    private static String nullableText(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
