package dev.d2v.export.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.onnx.proto.OnnxMl.ModelProto;
import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.TrainerCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the student encoders of a checkpoint as ONNX models, one {@code <modality>.onnx} per modality
 * ({@link EncoderGraph}). Each file is written to a temporary name and moved into place, so a reader never sees half
 * a model.
 */
public final class OnnxExport {

    private OnnxExport() {}

    /** Named weights held as float arrays. */
    public record FloatWeights(Map<String, float[]> values, Map<String, long[]> shapes) implements EncoderGraph.Weights {
        @Override
        public float[] values(String name) {
            float[] v = values.get(name);
            if (v == null) {
                throw new IllegalArgumentException("the weights have no tensor " + name);
            }
            return v;
        }

        @Override
        public long[] shape(String name) {
            long[] s = shapes.get(name);
            if (s == null) {
                throw new IllegalArgumentException("the weights have no tensor " + name);
            }
            return s;
        }

        @Override
        public boolean has(String name) {
            return values.containsKey(name);
        }

        /** A copy of DJL arrays (fp32 or cast to it). */
        public static FloatWeights of(Map<String, NDArray> arrays) {
            Map<String, float[]> v = new LinkedHashMap<>();
            Map<String, long[]> s = new LinkedHashMap<>();
            arrays.forEach((name, a) -> {
                v.put(name, a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray());
                s.put(name, a.getShape().getShape());
            });
            return new FloatWeights(v, s);
        }
    }

    /** A written model. */
    public record Written(Modality modality, Path file, long bytes) {}

    /**
     * Exports the student of a verified checkpoint.
     *
     * @param modalities the encoders to write; empty: every modality the checkpoint trained
     */
    public static List<Written> fromCheckpoint(Path checkpoint, List<Modality> modalities, Path out, String version)
            throws CheckpointException, IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(checkpoint, manager);
            Data2VecConfig config = TrainerCheckpoints.modelConfig(loaded.manifest());
            Map<String, NDArray> student = loaded.groups().get("student");
            if (student == null) {
                throw new CheckpointException(checkpoint, "has no student group");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("d2v.step", Long.toString(loaded.manifest().step()));
            metadata.put("d2v.checkpoint", checkpoint.getFileName().toString());
            metadata.put("d2v.config_hash", loaded.manifest().configHash());
            return write(config, FloatWeights.of(student), modalities, out, version, metadata);
        }
    }

    /** Writes the models of these weights into out (created if missing). */
    public static List<Written> write(Data2VecConfig config, EncoderGraph.Weights weights, List<Modality> modalities,
                                      Path out, String version, Map<String, String> metadata) throws IOException {
        List<Modality> which = modalities.isEmpty() ? config.modalities() : modalities;
        Files.createDirectories(out);
        List<Written> written = new ArrayList<>();
        for (Modality m : which) {
            if (config.modality(m) == null) {
                throw new IllegalArgumentException("the checkpoint has no " + m.id() + " encoder; it has "
                        + config.modalities());
            }
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("d2v.modality", m.id());
            ModelProto model = EncoderGraph.build(config, m, weights, version, meta);
            Path file = out.resolve(fileName(m));
            Path tmp = out.resolve(fileName(m) + ".tmp");
            try (var os = Files.newOutputStream(tmp)) {
                model.writeTo(os);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            written.add(new Written(m, file, Files.size(file)));
        }
        return written;
    }

    /** {@code <modality>.onnx}. */
    public static String fileName(Modality m) {
        return m.id() + ".onnx";
    }
}
