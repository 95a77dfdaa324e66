package dev.d2v.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A standalone encoder for use outside this project: {@code encoder.safetensors} (the student encoder's weights
 * under the caller's stable names) and {@code encoder.json} (a sidecar with the same facts plus the tensor list and
 * the file's SHA-256). Layout and metadata fields are documented in train/TRAIN.md.
 *
 * <p>{@code __metadata__} of encoder.safetensors (all values strings, as safetensors requires):
 * {@code format} = "d2v-encoder", {@code format_version} = "1", {@code modalities} = comma-separated modality ids
 * in the given order ("image,audio"), {@code step}, {@code checkpoint} (the source checkpoint id, "" if none),
 * {@code created_at} (ISO-8601), {@code config} (the training configuration as compact JSON).
 */
public final class EncoderExport {

    public static final String FORMAT = "d2v-encoder";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "encoder.safetensors";
    public static final String SIDECAR = "encoder.json";

    private EncoderExport() {}

    /**
     * What the export describes.
     *
     * @param modalities   the modalities the encoder has local encoders for, in the caller's order
     * @param config       the full training configuration (rebuilds the model's shape)
     * @param step         the optimizer step the weights are from
     * @param checkpointId the source checkpoint ("step-000001200"), or "" when exported from memory
     */
    public record Info(List<Modality> modalities, JsonNode config, long step, String checkpointId) {
        public Info {
            modalities = List.copyOf(modalities);
            Objects.requireNonNull(config, "config");
            checkpointId = checkpointId == null ? "" : checkpointId;
            if (modalities.isEmpty()) {
                throw new IllegalArgumentException("an encoder export needs at least one modality");
            }
        }
    }

    /** The tensors (in the manager given to {@link #read}) and what the export says about them. */
    public record Exported(Map<String, NDArray> tensors, Info info, Map<String, String> metadata) {}

    /**
     * Writes {@code folder/encoder.safetensors} and {@code folder/encoder.json}, each via a temp file and an atomic
     * rename (an existing export is replaced). Returns the safetensors file.
     */
    public static Path write(Path folder, Map<String, NDArray> tensors, Info info) throws IOException {
        Files.createDirectories(folder);
        Map<String, String> meta = metadata(info, Instant.now().toString());
        Path tmp = Files.createTempFile(folder, ".tmp-encoder-", ".safetensors");
        Files.delete(tmp); // SafeTensors.write creates it new
        String sha;
        try {
            sha = SafeTensors.write(tmp, tensors, meta);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Path file = folder.resolve(FILE);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        ObjectNode side = sidecar(meta, info, sha, tensors);
        Path tmpSide = Files.createTempFile(folder, ".tmp-encoder-", ".json");
        Files.write(tmpSide, CheckpointManifest.JSON.writeValueAsBytes(side));
        Files.move(tmpSide, folder.resolve(SIDECAR), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    static Map<String, String> metadata(Info info, String createdAt) throws IOException {
        Map<String, String> meta = new TreeMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", Integer.toString(FORMAT_VERSION));
        meta.put("modalities", String.join(",", info.modalities().stream().map(Modality::id).toList()));
        meta.put("step", Long.toString(info.step()));
        meta.put("checkpoint", info.checkpointId());
        meta.put("created_at", createdAt);
        meta.put("config", CheckpointManifest.JSON.writer().without(
                SerializationFeature.INDENT_OUTPUT).writeValueAsString(info.config()));
        return meta;
    }

    private static ObjectNode sidecar(Map<String, String> meta, Info info, String sha, Map<String, NDArray> tensors) {
        ObjectNode side = CheckpointManifest.JSON.createObjectNode();
        side.put("format", FORMAT);
        side.put("formatVersion", FORMAT_VERSION);
        side.put("file", FILE);
        side.put("sha256", sha);
        ArrayNode mods = side.putArray("modalities");
        info.modalities().forEach(m -> mods.add(m.id()));
        side.put("step", info.step());
        side.put("checkpoint", info.checkpointId());
        side.put("createdAt", meta.get("created_at"));
        side.set("config", info.config());
        ObjectNode list = side.putObject("tensors");
        for (Map.Entry<String, NDArray> e : new TreeMap<>(tensors).entrySet()) {
            ObjectNode t = list.putObject(e.getKey());
            t.put("dtype", SafeTensors.dtypeOf(e.getValue().getDataType()));
            ArrayNode shape = t.putArray("shape");
            Arrays.stream(e.getValue().getShape().getShape()).forEach(shape::add);
        }
        return side;
    }

    /**
     * Reads an export folder: checks the sidecar's SHA-256 against encoder.safetensors, the format and version in
     * the file's metadata, and returns the tensors in {@code manager}.
     */
    public static Exported read(Path folder, NDManager manager) throws CheckpointException {
        Path file = folder.resolve(FILE);
        Path sidePath = folder.resolve(SIDECAR);
        JsonNode side;
        try {
            side = CheckpointManifest.JSON.readTree(Files.readAllBytes(sidePath));
        } catch (IOException e) {
            throw new CheckpointException(sidePath, "unreadable sidecar: " + e.getMessage(), e);
        }
        try {
            String sha = Digests.sha256Hex(file);
            if (!sha.equals(side.path("sha256").asText())) {
                throw new CheckpointException(file, "SHA-256 mismatch: " + SIDECAR + " says "
                        + side.path("sha256").asText() + ", the file has " + sha + " (corrupt)");
            }
            SafeTensors.Contents c = SafeTensors.read(file, manager);
            Map<String, String> meta = c.metadata();
            if (!FORMAT.equals(meta.get("format")) || !Integer.toString(FORMAT_VERSION).equals(meta.get("format_version"))) {
                c.tensors().values().forEach(NDArray::close);
                throw new CheckpointException(file, "not a " + FORMAT + " version " + FORMAT_VERSION + " file (format "
                        + meta.get("format") + ", version " + meta.get("format_version") + ")");
            }
            List<Modality> mods = new ArrayList<>();
            for (String m : meta.getOrDefault("modalities", "").split(",")) {
                mods.add(Modality.parse(m));
            }
            Info info = new Info(mods, CheckpointManifest.JSON.readTree(meta.get("config")),
                    Long.parseLong(meta.get("step")), meta.get("checkpoint"));
            return new Exported(c.tensors(), info, meta);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(file, "cannot read encoder export: " + e.getMessage(), e);
        }
    }
}
