package dev.d2v.evaluate.features;

import dev.d2v.infra.Modality;
import dev.d2v.evaluate.io.AtomicFiles;
import java.nio.file.Path;
import java.util.Objects;

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

    /** Path below the cache root: {@code <checkpointId>/<modality>/<task>/<split>.d2vf}, names made safe by {@link AtomicFiles#safeName}. */
    public Path relativePath() {
        return Path.of(component(checkpointId), modality.id(), component(task), component(split) + ".d2vf");
    }

    /** The key as one line, stored in the file and checked on read. */
    public String describe() {
        return checkpointId + " / " + modality.id() + " / " + task + " / " + split;
    }

    static String component(String name) {
        return AtomicFiles.safeName(name);
    }
}
