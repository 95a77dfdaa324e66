package dev.d2v.infra.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;

/**
 * One record on d2v.checkpoints: a checkpoint was written and is complete. Versioned JSON, see infra/WIRE.md.
 *
 * @param checkpointId  unique name, e.g. "step-000001200"
 * @param step          optimizer steps done when it was taken (&gt;= 0)
 * @param samplesSeen   samples trained on per modality id ("image", "audio", "text"); counts &gt;= 0
 * @param offsets       consumed batch-topic offsets, key "topic:partition" (Kafka topic names cannot contain ':'),
 *                      value = the NEXT offset to read (Kafka's committed-offset convention): a restart seeks here
 * @param location      where the checkpoint files are (path or URI)
 * @param configHash    hash of the training config that produced it
 * @param createdAt     when it was written (ISO-8601 UTC in JSON)
 */
public record CheckpointEvent(
        String checkpointId,
        long step,
        Map<String, Long> samplesSeen,
        Map<String, Long> offsets,
        String location,
        long configHash,
        Instant createdAt) {

    public static final int VERSION = 1;
    static final String KIND = "checkpoint";
    private static final Pattern OFFSET_KEY = Pattern.compile("([A-Za-z0-9._-]+):(\\d+)");

    public CheckpointEvent {
        if (checkpointId == null || checkpointId.isBlank()) {
            throw new IllegalArgumentException("checkpointId is required");
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException("location is required");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        samplesSeen = sortedCopy(samplesSeen, "samplesSeen");
        offsets = sortedCopy(offsets, "offsets");
        for (String key : offsets.keySet()) {
            if (!OFFSET_KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("offset key '" + key + "' is not 'topic:partition'");
            }
        }
    }

    private static Map<String, Long> sortedCopy(Map<String, Long> m, String what) {
        Objects.requireNonNull(m, what);
        Map<String, Long> copy = new TreeMap<>();
        m.forEach((k, v) -> {
            if (k == null || v == null || v < 0) {
                throw new IllegalArgumentException(what + " entry " + k + " = " + v + ": keys and values >= 0 are required");
            }
            copy.put(k, v);
        });
        return Collections.unmodifiableMap(copy); // sorted: the JSON is deterministic
    }

    /** The key used in {@link #offsets()}. */
    public static String offsetKey(String topic, int partition) {
        return topic + ":" + partition;
    }

    public static String offsetKey(TopicPartition tp) {
        return offsetKey(tp.topic(), tp.partition());
    }

    /** {@link #offsets()} keyed by Kafka's TopicPartition, for {@code consumer.seek}. */
    public Map<TopicPartition, Long> offsetsByPartition() {
        Map<TopicPartition, Long> out = new TreeMap<>((a, b) -> offsetKey(a).compareTo(offsetKey(b)));
        offsets.forEach((k, v) -> {
            Matcher m = OFFSET_KEY.matcher(k);
            if (!m.matches()) {
                throw new IllegalStateException("checked in the constructor: " + k);
            }
            out.put(new TopicPartition(m.group(1), Integer.parseInt(m.group(2))), v);
        });
        return out;
    }

    /** Samples seen for one modality, 0 when absent. */
    public long samplesSeen(Modality m) {
        return samplesSeen.getOrDefault(m.id(), 0L);
    }

    // ---- JSON ----

    public byte[] toJson() {
        ObjectNode n = Json.object(KIND, VERSION);
        n.put("checkpointId", checkpointId);
        n.put("step", step);
        ObjectNode seen = n.putObject("samplesSeen");
        samplesSeen.forEach(seen::put);
        ObjectNode off = n.putObject("offsets");
        offsets.forEach(off::put);
        n.put("location", location);
        n.put("configHash", Json.hex64(configHash));
        n.put("createdAt", createdAt.toString());
        return Json.bytes(n);
    }

    /** Decodes any version this build knows; unknown versions and malformed JSON throw {@link WireFormatException}. */
    public static CheckpointEvent fromJson(byte[] json) {
        JsonNode n = Json.parse(json, KIND);
        int version = n.get("version").asInt();
        return switch (version) {
            case 1 -> v1(n);
            default -> throw Json.unknownVersion(KIND, version, VERSION);
        };
    }

    private static CheckpointEvent v1(JsonNode n) {
        try {
            return new CheckpointEvent(
                    Json.text(n, "checkpointId", KIND),
                    Json.longValue(n, "step", KIND),
                    Json.longMap(n, "samplesSeen", KIND),
                    Json.longMap(n, "offsets", KIND),
                    Json.text(n, "location", KIND),
                    Json.parseHex64(n, "configHash", KIND),
                    Json.instant(n, "createdAt", KIND));
        } catch (IllegalArgumentException e) {
            throw new WireFormatException("invalid checkpoint event: " + e.getMessage(), e);
        }
    }
}
