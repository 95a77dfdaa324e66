package dev.d2v.export.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.config.ModelConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.model.Readout;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported graphs against the DJL forward they mirror: every modality, three input lengths (audio and text) and
 * batch sizes, ONNX Runtime's graph optimisations off and on; per-token outputs and both readouts within
 * 1e-4 + 1e-3 |reference|.
 */
class OnnxExportTest {

    private static final double ABS = 1e-4;
    private static final double REL = 1e-3;

    @TempDir
    Path tmp;

    /** The tiny model (D 32, two shared blocks) and a deeper one: five blocks, a prenet block on images, own trunks. */
    private static List<Data2VecConfig> configs() {
        Data2VecConfig tiny = TinyConfigs.tiny();
        ModalityConfig image = tiny.image();
        Data2VecConfig deeper = new Data2VecConfig(new ModelConfig(32, 5, 4, 2.0, 0.0).withSharedTrunk(false),
                new ModalityConfig(1, image.masking(), image.multiMask(), image.decoder(), image.targets(), image.loss(),
                        image.localEncoder()),
                tiny.audio(), tiny.text(), tiny.ema(), tiny.optim(), tiny.collapseGuard());
        return List.of(tiny, deeper);
    }

    @Test
    void everyModalitysGraphComputesTheEncodersFeaturesAtAnyBatchAndLength() throws Exception {
        int checked = 0;
        for (Data2VecConfig config : configs()) {
            Data2VecModel model = new Data2VecModel(config);
            try (NDManager manager = NDManager.newBaseManager()) {
                Params p = model.declare(manager, 11);
                List<OnnxExport.Written> written = OnnxExport.write(config, OnnxExport.FloatWeights.of(p.view()), List.of(),
                        tmp.resolve("d" + config.model().depth()), "test", Map.of());
                assertThat(written).extracting(OnnxExport.Written::modality).containsExactly(Modality.values());
                for (OnnxExport.Written w : written) {
                    byte[] bytes = Files.readAllBytes(w.file());
                    for (OrtSession.SessionOptions.OptLevel level : List.of(OrtSession.SessionOptions.OptLevel.NO_OPT,
                            OrtSession.SessionOptions.OptLevel.ALL_OPT)) {
                        for (Minibatch b : batches(w.modality())) {
                            compare(model, p, b, bytes, level, manager);
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * 3 * 2 * 3);
    }

    /** Three batches per modality: sizes 1, 2 and 5; audio and text at three lengths, with padding. */
    private static List<Minibatch> batches(Modality m) {
        return switch (m) {
            case IMAGE -> List.of(SyntheticBatches.image(1, 1, 8, 1), SyntheticBatches.image(2, 1, 8, 2),
                    SyntheticBatches.image(5, 1, 8, 3));
            case AUDIO -> List.of(SyntheticBatches.audio(1, 24, 16, 1), SyntheticBatches.audio(2, 17, 16, 2),
                    SyntheticBatches.audio(5, 9, 16, 3));
            case TEXT -> List.of(SyntheticBatches.text(1, 16, 50, 1), SyntheticBatches.text(2, 7, 50, 2),
                    SyntheticBatches.text(5, 4, 50, 3));
        };
    }

    private static void compare(Data2VecModel model, Params p, Minibatch b, byte[] onnx,
                                OrtSession.SessionOptions.OptLevel level, NDManager parent) throws OrtException {
        Modality m = b.modality();
        try (NDManager scope = parent.newSubManager()) {
            BatchTensors t = BatchTensors.of(b, model.config().modality(m), scope);
            float[] pooled = model.features(p, m, t.input(), t.validTokens(), Readout.LAST).toFloatArray();
            float[] layers = model.features(p, m, t.input(), t.validTokens(), Readout.LAYERS).toFloatArray();
            NDArray embedded = model.embed(p, m, t.input());
            long tokens = embedded.getShape().get(1);
            NDArray valid = t.validTokens() == null ? null : Data2VecModel.validMask(scope, t.validTokens(), tokens);
            NDArray positions = m == Modality.AUDIO ? scope.arange(0f, (float) tokens).reshape(1, tokens) : null;
            float[] perToken = model.encode(p, m, embedded, positions, valid, false, false).x().toFloatArray();

            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(level);
                options.setIntraOpNumThreads(1);
                try (OrtSession session = env.createSession(onnx, options)) {
                    Map<String, OnnxTensor> inputs = inputs(env, b, t, scope);
                    try (OrtSession.Result r = session.run(inputs)) {
                        String what = m.id() + " batch " + b.batchSize() + "x" + b.shape()[1] + " " + level;
                        assertClose(what + " tokens", out(r, "tokens"), perToken);
                        assertClose(what + " pooled", out(r, "pooled"), pooled);
                        assertClose(what + " layers", out(r, "layers"), layers);
                    } finally {
                        inputs.values().forEach(OnnxTensor::close);
                    }
                }
            }
        }
    }

    /** The minibatch as the graph takes it: uint8 pixels; float log-mel (B, frames, mels) or int64 ids, and lengths. */
    private static Map<String, OnnxTensor> inputs(OrtEnvironment env, Minibatch b, BatchTensors t, NDManager scope)
            throws OrtException {
        long[] shape = new long[b.rank()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = b.shape()[i];
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        switch (b.modality()) {
            case IMAGE -> in.put("pixels", OnnxTensor.createTensor(env, ByteBuffer.wrap(b.payload()), shape, OnnxJavaType.UINT8));
            case AUDIO -> {
                float[] mel = t.input().squeeze(1).transpose(0, 2, 1).toType(DataType.FLOAT32, false).toFloatArray();
                in.put("log_mel", OnnxTensor.createTensor(env, FloatBuffer.wrap(mel), shape));
                in.put("lengths", lengths(env, b));
            }
            case TEXT -> {
                in.put("ids", OnnxTensor.createTensor(env, LongBuffer.wrap(t.input().toLongArray()), shape));
                in.put("lengths", lengths(env, b));
            }
        }
        return in;
    }

    private static OnnxTensor lengths(OrtEnvironment env, Minibatch b) throws OrtException {
        long[] l = new long[b.batchSize()];
        for (int i = 0; i < l.length; i++) {
            l[i] = b.validLengths()[i];
        }
        return OnnxTensor.createTensor(env, LongBuffer.wrap(l), new long[] {l.length});
    }

    private static float[] out(OrtSession.Result r, String name) {
        OnnxTensor t = (OnnxTensor) r.get(name).orElseThrow();
        FloatBuffer fb = t.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    private static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual).as(what + " size").hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double excess = Math.abs(actual[i] - expected[i]) - (ABS + REL * Math.abs(expected[i]));
            worst = Math.max(worst, excess);
        }
        assertThat(worst).as(what + ": largest excess over 1e-4 + 1e-3 |reference|").isLessThanOrEqualTo(0);
    }

    /**
     * The int8 models: every token's output within cosine 0.99 of the fp32 model's (ONNX Runtime, optimisations on, so
     * its fused quantized kernels run), and on the cpu preset's image and text encoders at most 0.35 of the fp32 size.
     */
    @Test
    void theInt8ModelsKeepTheFeaturesInAThirdOfTheSize() throws Exception {
        Data2VecConfig tiny = TinyConfigs.tiny();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (NDManager manager = NDManager.newBaseManager()) {
            Params p = new Data2VecModel(tiny).declare(manager, 5);
            List<OnnxExport.Written> written = OnnxExport.write(tiny, OnnxExport.FloatWeights.of(p.view()), List.of(),
                    tmp.resolve("int8"), "test", Map.of(), true);
            for (OnnxExport.Written w : written) {
                assertThat(w.int8File().getFileName().toString()).isEqualTo(w.modality().id() + ".int8.onnx");
                for (Minibatch b : batches(w.modality())) {
                    try (NDManager scope = manager.newSubManager()) {
                        BatchTensors t = BatchTensors.of(b, tiny.modality(w.modality()), scope);
                        float[] fp32 = runTokens(env, Files.readAllBytes(w.file()), b, t, scope);
                        float[] int8 = runTokens(env, Files.readAllBytes(w.int8File()), b, t, scope);
                        double worst = minCosine(fp32, int8, tiny.model().dim());
                        assertThat(worst).as("%s %dx%d: the least cosine of a token to fp32", w.modality().id(),
                                b.batchSize(), b.shape()[1]).isGreaterThanOrEqualTo(0.99).isLessThan(1.0);
                    }
                }
            }
        }
        Data2VecConfig cpu = Data2VecConfig.cpu();
        for (Modality m : List.of(Modality.IMAGE, Modality.TEXT)) {
            Data2VecConfig one = cpu.only(m);
            try (NDManager manager = NDManager.newBaseManager()) {
                Params p = new Data2VecModel(one).declare(manager, 5);
                OnnxExport.Written w = OnnxExport.write(one, OnnxExport.FloatWeights.of(p.view()), List.of(m),
                        tmp.resolve("cpu-" + m.id()), "test", Map.of(), true).get(0);
                double ratio = (double) Files.size(w.int8File()) / Files.size(w.file());
                assertThat(ratio).as("%s int8 / fp32 size", m.id()).isLessThanOrEqualTo(0.35);
            }
        }
    }

    private static float[] runTokens(OrtEnvironment env, byte[] onnx, Minibatch b, BatchTensors t, NDManager scope)
            throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(onnx, options)) {
                Map<String, OnnxTensor> inputs = inputs(env, b, t, scope);
                try (OrtSession.Result r = session.run(inputs)) {
                    return out(r, "tokens");
                } finally {
                    inputs.values().forEach(OnnxTensor::close);
                }
            }
        }
    }

    private static double minCosine(float[] a, float[] b, int d) {
        double worst = 1;
        for (int i = 0; i < a.length; i += d) {
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int j = i; j < i + d; j++) {
                dot += a[j] * b[j];
                na += a[j] * a[j];
                nb += b[j] * b[j];
            }
            worst = Math.min(worst, dot / Math.sqrt(na * nb));
        }
        return worst;
    }

    @Test
    void aModalityTheCheckpointDidNotTrainIsRefused() {
        Data2VecConfig textOnly = TinyConfigs.tiny().only(Modality.TEXT);
        try (NDManager manager = NDManager.newBaseManager()) {
            Params p = new Data2VecModel(textOnly).declare(manager, 1);
            assertThatThrownBy(() -> OnnxExport.write(textOnly, OnnxExport.FloatWeights.of(p.view()),
                    List.of(Modality.IMAGE), tmp, "test", Map.of()))
                    .hasMessageContaining("no image encoder");
        }
    }
}
