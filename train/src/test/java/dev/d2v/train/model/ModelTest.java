package dev.d2v.train.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.FinalNorm;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.loss.Losses;
import dev.d2v.train.mask.MaskBatch;
import dev.d2v.train.mask.Masking;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.tensor.Tokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelTest {

    private final Data2VecConfig config = TinyConfigs.tiny();
    private final Data2VecModel model = new Data2VecModel(config);

    static Minibatch batch(Modality m, long seed) {
        return switch (m) {
            case IMAGE -> SyntheticBatches.image(3, 1, 8, seed);
            case AUDIO -> SyntheticBatches.audio(3, 24, 16, seed);
            case TEXT -> SyntheticBatches.text(3, 16, 50, seed);
        };
    }

    /**
     * The student on the gathered visible tokens (positions carried along for ALiBi) equals the student on the full
     * sequence whose attention treats the masked tokens as padding: inverse masking changes the cost, not the math.
     */
    @ParameterizedTest
    @EnumSource(Modality.class)
    void visibleTokensEqualTheFullSequenceWithMaskedKeysExcluded(Modality m) {
        ModalityConfig c = config.modality(m);
        try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
            Params p = model.declare(root, 3);
            BatchTensors in = BatchTensors.of(batch(m, 1), c, root);
            NDArray emb = model.embed(p, m, in.input());                                    // (B, T, D)
            long b = emb.getShape().get(0);
            int t = (int) emb.getShape().get(1);
            int rows = model.gridRows(m, in.input().getShape());
            MaskBatch mask = Masking.forBatch(c.masking(), rows, t, 5, 0, in.sampleKeys(), in.validTokens(), 1);
            NDArray idsKeep = Tokens.indices(root, mask.idsKeep());
            NDArray visible = Tokens.gatherVisible(emb, idsKeep);
            NDArray posVisible = idsKeep.toType(DataType.FLOAT32, false);
            Data2VecModel.Encoded fast = model.encode(p, m, visible, posVisible, null, false, false);

            boolean[] keys = new boolean[(int) b * t];
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < t; j++) {
                    keys[r * t + j] = !mask.masked()[r][j];
                }
            }
            NDArray keyValid = root.create(keys, new Shape(b, t));
            NDArray posAll = root.arange(0f, (float) t).reshape(1, t);
            Data2VecModel.Encoded full = model.encode(p, m, emb, posAll, keyValid, false, false);
            NDArray fullAtVisible = Tokens.gatherVisible(full.x(), idsKeep);

            assertThat(mask.keep()).isLessThan(t);
            assertClose(fast.x(), fullAtVisible, 2e-4);
            if (m == Modality.IMAGE) {
                assertClose(fast.cls(), full.cls(), 2e-4);
            }
        }
    }

    /** Targets from the model equal the recipe worked out in plain Java on the teacher's FFN outputs (2 blocks). */
    @ParameterizedTest
    @EnumSource(value = Modality.class, names = {"IMAGE", "TEXT"})
    void targetsEqualAHandComputationOnTheTwoLayerTeacher(Modality m) {
        ModalityConfig c = config.modality(m);
        try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
            Params p = model.declare(root, 4);
            BatchTensors in = BatchTensors.of(batch(m, 2), c, root);
            float[] got = model.targets(p, m, in.input(), in.validTokens()).toFloatArray();

            NDArray emb = model.embed(p, m, in.input());
            long b = emb.getShape().get(0);
            int t = (int) emb.getShape().get(1);
            int d = (int) emb.getShape().get(2);
            NDArray keyValid = in.validTokens() == null ? null : Data2VecModel.validMask(root, in.validTokens(), t);
            List<NDArray> ffn = model.encode(p, m, emb, null, keyValid, false, true).ffn();
            assertThat(ffn).hasSize(2);
            int k = c.targets().averageTopKLayers();
            List<float[]> layers = new ArrayList<>();
            for (NDArray f : ffn.subList(2 - k, 2)) {
                layers.add(f.toFloatArray());
            }
            for (int r = 0; r < b; r++) {
                int valid = in.validTokens() == null ? t : in.validTokens()[r];
                double[][] y = new double[valid][d];
                for (float[] f : layers) {
                    for (int ch = 0; ch < d; ch++) {
                        double mean = 0;
                        for (int j = 0; j < valid; j++) {
                            mean += f[(r * t + j) * d + ch];
                        }
                        mean /= valid;
                        double var = 0;
                        for (int j = 0; j < valid; j++) {
                            double z = f[(r * t + j) * d + ch] - mean;
                            var += z * z;
                        }
                        var /= valid;
                        for (int j = 0; j < valid; j++) {
                            y[j][ch] += (f[(r * t + j) * d + ch] - mean) / Math.sqrt(var + 1e-5) / k;
                        }
                    }
                }
                for (int j = 0; j < valid; j++) {
                    if (c.targets().finalNorm() == FinalNorm.LAYER_NORM) {
                        double mean = 0;
                        double var = 0;
                        for (double v : y[j]) {
                            mean += v / d;
                        }
                        for (double v : y[j]) {
                            var += (v - mean) * (v - mean) / d;
                        }
                        for (int ch = 0; ch < d; ch++) {
                            y[j][ch] = (y[j][ch] - mean) / Math.sqrt(var + 1e-5);
                        }
                    }
                    for (int ch = 0; ch < d; ch++) {
                        assertThat((double) got[(r * t + j) * d + ch]).as("row %d token %d channel %d", r, j, ch)
                                .isCloseTo(y[j][ch], within(2e-4));
                    }
                }
            }
        }
    }

    /** Analytic gradients of the masked loss against central differences, on parameters of every stage. */
    @Test
    void gradientsMatchFiniteDifferences() {
        Modality m = Modality.TEXT;
        ModalityConfig c = config.modality(m);
        try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
            Params p = model.declare(root, 6);
            p.requireGradients(true);
            BatchTensors in = BatchTensors.of(batch(m, 3), c, root);
            int t = model.tokens(m, in.input().getShape());
            MaskBatch mask = Masking.forBatch(c.masking(), 1, t, 9, 0, in.sampleKeys(), in.validTokens(), c.multiMask());
            NDArray targets = root.randomNormal(new Shape(in.batchSize(), t, config.model().dim())).duplicate();
            NDArray lossMask = Tokens.mask(root, mask.lossMask());
            String[] names = {"text.token_embed.weight", "text.embed_norm.weight", "blocks.0.attn.qkv.weight",
                    "blocks.1.mlp.fc2.weight", "text.decoder.proj.weight"};
            float[][] analytic = new float[names.length][];
            try (GradientCollector g = Engine.getInstance().newGradientCollector()) {
                NDArray loss = loss(p, m, in, mask, targets, lossMask, c);
                g.backward(loss);
            }
            for (int i = 0; i < names.length; i++) {
                analytic[i] = p.get(names[i]).getGradient().toFloatArray();
            }
            int checked = 0;
            for (int i = 0; i < names.length; i++) {
                NDArray param = p.get(names[i]);
                for (int index : largest(analytic[i], 3)) {
                    double eps = 1e-2;
                    float[] w = param.toFloatArray();
                    float orig = w[index];
                    w[index] = (float) (orig + eps);
                    param.set(w);
                    double up = loss(p, m, in, mask, targets, lossMask, c).getFloat();
                    w[index] = (float) (orig - eps);
                    param.set(w);
                    double down = loss(p, m, in, mask, targets, lossMask, c).getFloat();
                    w[index] = orig;
                    param.set(w);
                    double numeric = (up - down) / (2 * eps);
                    assertThat(numeric).as("d loss / d %s[%d]", names[i], index)
                            .isCloseTo(analytic[i][index], within(2e-3 + 0.05 * Math.abs(analytic[i][index])));
                    checked++;
                }
            }
            assertThat(checked).isEqualTo(15);
        }
    }

    /** The student's masked loss with the restore noise drawn from the same seed every time. */
    private NDArray loss(Params p, Modality m, BatchTensors in, MaskBatch mask, NDArray targets, NDArray lossMask,
                         ModalityConfig c) {
        Engine.getInstance().setRandomSeed(11);
        NDArray emb = model.embed(p, m, in.input());
        Data2VecModel.StudentOut out = model.student(p, m, emb, mask, 1, true);
        return Losses.maskedRegression(out.prediction(), Tokens.repeatInterleave(targets, c.multiMask()), lossMask,
                c.loss().lossBeta(), c.loss().scale(config.model().dim()));
    }

    private static int[] largest(float[] g, int n) {
        Integer[] order = new Integer[g.length];
        for (int i = 0; i < g.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(Math.abs(g[b]), Math.abs(g[a])));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = order[i];
        }
        return out;
    }

    static void assertClose(NDArray a, NDArray b, double tol) {
        assertThat(a.getShape()).isEqualTo(b.getShape());
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        assertThat(worst).as("largest difference").isLessThan(tol);
    }
}
