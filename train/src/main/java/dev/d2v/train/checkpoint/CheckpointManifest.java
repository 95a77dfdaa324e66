package dev.d2v.train.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a checkpoint folder holds besides its tensors: enough to rebuild the model and resume the run exactly,
 * so that the evaluation stage needs nothing but the folder. Stored as {@code manifest.json}, format version {@value #FORMAT_VERSION};
 * a reader refuses any other version with a message naming both.
 *
 * @param formatVersion  {@value #FORMAT_VERSION}; a new layout gets a new number and its own reader
 * @param createdAt      ISO-8601 instant, UTC
 * @param step           optimizer steps done
 * @param samplesSeen    samples trained on per modality id ("image", "audio", "text")
 * @param config         the full training configuration as a JSON tree (the config records live elsewhere and
 *                       bind it themselves)
 * @param schedule       schedule state by name, e.g. "lr", "tau", "warmupSteps" (the schedules are pure functions
 *                       of the step; these are the values in force, for checks and reports)
 * @param rng            generator states by name (masking, data order, engine), each a list of longs
 * @param dataPosition   where reading resumes: Kafka offsets and free-form positions (file, epoch, index)
 * @param optimizerSteps step counts per optimizer / parameter group (AdamW bias correction needs them)
 * @param files          per file in the folder (group tensor files): size and SHA-256; filled by the store
 */
public record CheckpointManifest(
        int formatVersion,
        String createdAt,
        long step,
        Map<String, Long> samplesSeen,
        JsonNode config,
        Map<String, Double> schedule,
        Map<String, List<Long>> rng,
        DataPosition dataPosition,
        Map<String, Long> optimizerSteps,
        Map<String, FileDigest> files) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "manifest.json";

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * The position a restart seeks to.
     *
     * @param offsets "topic:partition" -> next offset to read (Kafka's committed-offset convention, as in
     *                CheckpointEvent)
     * @param extra   free-form positions of offline runs, e.g. "epoch" -> "3", "index" -> "1200"
     */
    public record DataPosition(Map<String, Long> offsets, Map<String, String> extra) {
        public DataPosition {
            offsets = sorted(offsets);
            extra = sorted(extra);
        }

        public static DataPosition none() {
            return new DataPosition(Map.of(), Map.of());
        }
    }

    /** A file's byte length and SHA-256 (64 lower-case hex digits). */
    public record FileDigest(long bytes, String sha256) {
        public FileDigest {
            Objects.requireNonNull(sha256, "sha256");
            if (bytes < 0 || !sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("file digest needs bytes >= 0 and 64 lower-case hex digits, got "
                        + bytes + " / " + sha256);
            }
        }
    }

    public CheckpointManifest {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("checkpoint manifest format version " + formatVersion
                    + " is not supported (this build reads " + FORMAT_VERSION + ")");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(config, "config (the training configuration as JSON)");
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        samplesSeen = sorted(samplesSeen);
        schedule = sorted(schedule);
        rng = sorted(rng);
        dataPosition = dataPosition == null ? DataPosition.none() : dataPosition;
        optimizerSteps = sorted(optimizerSteps);
        files = sorted(files);
    }

    /** A manifest for {@code step}, created now, with no files yet (the store fills them in). */
    public static CheckpointManifest of(long step, Map<String, Long> samplesSeen, JsonNode config,
                                        Map<String, Double> schedule, Map<String, List<Long>> rng,
                                        DataPosition dataPosition, Map<String, Long> optimizerSteps) {
        return new CheckpointManifest(FORMAT_VERSION, Instant.now().toString(), step, samplesSeen, config, schedule,
                rng, dataPosition, optimizerSteps, Map.of());
    }

    /** The same manifest listing {@code files}. */
    public CheckpointManifest withFiles(Map<String, FileDigest> newFiles) {
        return new CheckpointManifest(formatVersion, createdAt, step, samplesSeen, config, schedule, rng,
                dataPosition, optimizerSteps, newFiles);
    }

    /**
     * 16 lower-case hex digits: the first 8 bytes of SHA-256 over the config as canonical JSON (object keys sorted
     * at every level, no whitespace), for CheckpointEvent.configHash. Field order in the tree does not matter.
     */
    public String configHash() {
        try {
            Object plain = JSON.treeToValue(config, Object.class);
            byte[] canonical = JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(plain);
            return Digests.sha256Hex(canonical).substring(0, 16);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree always converts to plain values", e);
        }
    }

    /** UTF-8 JSON, keys of every map sorted, indented. */
    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("a manifest of plain values always serialises", e);
        }
    }

    /**
     * Parses manifest bytes: the format version is checked before anything else is bound, so a newer layout is
     * refused with a clear message rather than a field error.
     *
     * @param file only for messages
     */
    public static CheckpointManifest fromJson(byte[] json, Path file) throws CheckpointException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new CheckpointException(file, "manifest is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("formatVersion").isInt()) {
            throw new CheckpointException(file, "manifest has no integer \"formatVersion\"");
        }
        int version = root.get("formatVersion").asInt();
        if (version != FORMAT_VERSION) {
            throw new CheckpointException(file, "checkpoint manifest format version " + version
                    + " is not supported (this build reads " + FORMAT_VERSION + "); use the build that wrote it");
        }
        try {
            return JSON.treeToValue(root, CheckpointManifest.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file, "manifest does not bind: " + e.getMessage(), e);
        }
    }

    private static <V> Map<String, V> sorted(Map<String, V> m) {
        return m == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(m));
    }
}
