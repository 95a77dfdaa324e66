package dev.d2v.evaluate.features;

import dev.d2v.infra.Modality;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * What a cached feature matrix was extracted from: one checkpoint's encoder (or a baseline such as
 * "random-init"), one modality, one probe task, one split.
 *
 * @param checkpointId the checkpoint (as in its CheckpointEvent) or a baseline name
 * @param modality     which encoder
 * @param task         probe task name, e.g. "fashion-mnist"
 * @param split        "train" or "test" (any name: a task may have more)
 */
public record FeatureKey(String checkpointId, Modality modality, String task, String split) {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]{1,80}");

    public FeatureKey {
        requireText(checkpointId, "checkpointId");
        Objects.requireNonNull(modality, "modality");
        requireText(task, "task");
        requireText(split, "split");
    }

    private static void requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("feature key: " + what + " is required");
        }
    }

    /** Path below the cache root: {@code <checkpointId>/<modality>/<task>/<split>.d2vf}. */
    public Path relativePath() {
        return Path.of(component(checkpointId), modality.id(), component(task), component(split) + ".d2vf");
    }

    /** The key as one line, stored in the file and checked on read. */
    public String describe() {
        return checkpointId + " / " + modality.id() + " / " + task + " / " + split;
    }

    /**
     * A name as a folder name: unchanged when it is short and uses only [A-Za-z0-9._-] (and is not "." or ".."),
     * else its safe characters plus the CRC32C of the whole name, so that distinct names stay distinct.
     */
    static String component(String name) {
        if (SAFE.matcher(name).matches() && !name.equals(".") && !name.equals("..")) {
            return name;
        }
        CRC32C crc = new CRC32C();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        String cleaned = name.replaceAll("[^A-Za-z0-9._-]", "_");
        cleaned = cleaned.substring(0, Math.min(40, cleaned.length())).replaceAll("^\\.+", "_");
        return cleaned + "-" + String.format("%08x", crc.getValue());
    }
}
