package dev.d2v.export.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.onnx.proto.OnnxMl.ModelProto;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes student encoders as ONNX models, one {@code <modality>.onnx} per modality ({@link EncoderGraph}), and with
 * int8 a quantized {@code <modality>.int8.onnx} beside each. Each file is written to a temporary name and moved into
 * place, so a reader never sees half a model. {@code ExportPackage} adds what a consumer needs around them.
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
                v.put(name, a.toType(DataType.FLOAT32, false).toFloatArray());
                s.put(name, a.getShape().getShape());
            });
            return new FloatWeights(v, s);
        }
    }

    /** The models written for a modality: fp32, and int8 or null. */
    public record Written(Modality modality, Path file, Path int8File) {}

    /** Writes the fp32 models of these weights into out (created if missing). */
    public static List<Written> write(Data2VecConfig config, EncoderGraph.Weights weights, List<Modality> modalities,
                                      Path out, String version, Map<String, String> metadata) throws IOException {
        return write(config, weights, modalities, out, version, metadata, false);
    }

    /** The same, and with int8 the dynamically quantized models beside them ({@code <modality>.int8.onnx}). */
    public static List<Written> write(Data2VecConfig config, EncoderGraph.Weights weights, List<Modality> modalities,
                                      Path out, String version, Map<String, String> metadata, boolean int8)
            throws IOException {
        List<Modality> which = modalities.isEmpty() ? config.modalities() : modalities;
        for (Modality m : which) {
            if (config.modality(m) == null) {
                throw new IllegalArgumentException("the checkpoint has no " + m.id() + " encoder; it has "
                        + config.modalities());
            }
        }
        Files.createDirectories(out);
        List<Written> written = new ArrayList<>();
        for (Modality m : which) {
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("d2v.modality", m.id());
            Path file = writeModel(EncoderGraph.build(config, m, weights, false, version, meta), out.resolve(fileName(m)));
            Path quantized = null;
            if (int8) {
                meta.put("d2v.quantization", "dynamic int8 (weight MatMuls per output column, token table per row)");
                quantized = writeModel(EncoderGraph.build(config, m, weights, true, version, meta),
                        out.resolve(int8FileName(m)));
            }
            written.add(new Written(m, file, quantized));
        }
        return written;
    }

    private static Path writeModel(ModelProto model, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var os = Files.newOutputStream(tmp)) {
            model.writeTo(os);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** {@code <modality>.int8.onnx}. */
    public static String int8FileName(Modality m) {
        return m.id() + ".int8.onnx";
    }

    /** {@code <modality>.onnx}. */
    public static String fileName(Modality m) {
        return m.id() + ".onnx";
    }
}
