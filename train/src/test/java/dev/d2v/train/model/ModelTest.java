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
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.MaskKind;
import dev.d2v.train.config.MaskingConfig;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
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
            // rows of unequal valid length keep unequal counts: the visible tensor's padding slots are excluded keys
            NDArray visibleValid = mask.uniform() ? null : Data2VecModel.validMask(root, mask.keep(), mask.maxKeep());
            Data2VecModel.Encoded fast = model.encode(p, m, visible, posVisible, visibleValid, false, false);

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

            assertThat(mask.maxKeep()).isLessThan(t);
            assertThat(mask.uniform()).isEqualTo(m == Modality.IMAGE);
            assertCloseAtKeptSlots(fast.x(), fullAtVisible, mask.keep(), 2e-4);
            if (m == Modality.IMAGE) {
                assertClose(fast.cls(), full.cls(), 2e-4);
            }
        }
    }

    /**
     * A padded batch whose rows keep different counts (valid lengths 4 and 40 at mask_ratio 0.6: 1 and 16 visible
     * tokens; audio 3 and 12 tokens at 0.5: 1 and 6) predicts for each row what that row predicts alone: the visible
     * tensor's padding slots are never attended to and never restored.
     */
    @ParameterizedTest
    @EnumSource(value = Modality.class, names = {"AUDIO", "TEXT"})
    void aPaddedBatchPredictsWhatEachRowPredictsAlone(Modality m) {
        Data2VecConfig wide = wideSequences();
        Data2VecModel wideModel = new Data2VecModel(wide);
        ModalityConfig c = wide.modality(m);
        int[] valid = m == Modality.TEXT ? new int[] {4, 40} : new int[] {6, 24};   // audio: frames, 2 per token
        try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
            Params p = wideModel.declare(root, 3);
            BatchTensors in = BatchTensors.of(paddedBatch(m, valid, 0, valid.length), c, root);
            int t = wideModel.tokens(m, in.input().getShape());
            MaskBatch mask = Masking.forBatch(c.masking(), 1, t, 5, 0, in.sampleKeys(), in.validTokens(), c.multiMask());
            assertThat(mask.keep()).containsExactly(m == Modality.TEXT ? new int[] {1, 1, 16, 16} : new int[] {1, 1, 6, 6});
            float[] batch = wideModel.student(p, m, wideModel.embed(p, m, in.input()), mask, 1, false, 0f)
                    .prediction().toFloatArray();
            int perRow = batch.length / mask.rows();
            for (int i = 0; i < valid.length; i++) {
                BatchTensors one = BatchTensors.of(paddedBatch(m, valid, i, i + 1), c, root);
                MaskBatch alone = Masking.forBatch(c.masking(), 1, t, 5, 0, one.sampleKeys(), one.validTokens(), c.multiMask());
                float[] expected = wideModel.student(p, m, wideModel.embed(p, m, one.input()), alone, 1, false, 0f)
                        .prediction().toFloatArray();
                double worst = 0;
                for (int j = 0; j < expected.length; j++) {
                    worst = Math.max(worst, Math.abs(batch[i * c.multiMask() * perRow + j] - expected[j]));
                }
                assertThat(worst).as("row %d (valid %d): largest difference to the row alone", i, valid[i]).isLessThan(2e-4);
            }
        }
    }

    /**
     * The probes' layers readout is the pooled local encoder output followed by the pooled outputs of the top blocks
     * (both of a 2-block trunk, the last four of a 6-block one), its last D columns the last-block readout; pooling
     * counts only the real tokens, so a padded row reads as it reads alone.
     */
    @ParameterizedTest
    @EnumSource(Modality.class)
    void theLayersReadoutIsThePooledLocalEncoderThenTheTopBlocks(Modality m) {
        int[] valid = m == Modality.TEXT ? new int[] {4, 40} : new int[] {6, 24};
        for (int depth : new int[] {2, 6}) {
            Data2VecConfig c = wideSequences().withOverrides(List.of("model.depth=" + depth));
            Data2VecModel net = new Data2VecModel(c);
            int d = c.model().dim();
            try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
                Params p = net.declare(root, 3);
                Minibatch b = m == Modality.IMAGE ? batch(m, 4) : paddedBatch(m, valid, 0, valid.length);
                BatchTensors in = BatchTensors.of(b, c.modality(m), root);
                NDArray layers = net.features(p, m, in.input(), in.validTokens(), Readout.LAYERS);
                NDArray last = net.features(p, m, in.input(), in.validTokens(), Readout.LAST);
                int width = d * (1 + Math.min(Readout.LAYER_BLOCKS, depth));
                assertThat(layers.getShape()).isEqualTo(new Shape(b.batchSize(), width));
                assertThat(Readout.LAYERS.dim(d, depth)).isEqualTo(width);
                assertClose(layers.get(":, " + (width - d) + ":"), last, 1e-6);

                NDArray tokens = net.embed(p, m, in.input());                                 // (B, T, D)
                float[] local = layers.get(":, :" + d).toFloatArray();
                int t = (int) tokens.getShape().get(1);
                for (int row = 0; row < b.batchSize(); row++) {
                    int real = in.validTokens() == null ? t : Math.min(t, in.validTokens()[row]);
                    float[] mean = tokens.get(row + ", :" + real + ", :").mean(new int[] {0}).toFloatArray();
                    for (int j = 0; j < d; j++) {
                        assertThat(local[row * d + j]).as("row %d dim %d at depth %d", row, j, depth)
                                .isCloseTo(mean[j], within(1e-5f));
                    }
                }
                if (m != Modality.IMAGE) {
                    BatchTensors alone = BatchTensors.of(paddedBatch(m, valid, 0, 1), c.modality(m), root);
                    assertClose(layers.get("0:1, :"),
                            net.features(p, m, alone.input(), alone.validTokens(), Readout.LAYERS), 2e-4);
                }
            }
        }
    }

    /**
     * The loss on a batch whose rows keep different counts averages over exactly the masked positions inside each row's
     * valid length: 3 + 24 per clone for valid lengths 4 and 40 at mask_ratio 0.6, never a visible or padded one.
     */
    /**
     * The text tables take their init std from the local encoder section: 0.02 by default, and the reference's on
     * request (token rows N(0, 1), positions N(0, 1/D)); a section written before the fields existed (0) reads 0.02.
     */
    @Test
    void theTextTablesTakeTheirInitFromTheSection() {
        Data2VecConfig reference = config.with(Modality.TEXT, config.text().withLocalEncoder(
                config.text().localEncoder().withTextInit(1.0, 0.125)));
        Data2VecConfig old = config.with(Modality.TEXT, config.text().withLocalEncoder(
                config.text().localEncoder().withTextInit(0, 0)));
        double[][] stds = new double[3][];
        int i = 0;
        for (Data2VecConfig c : List.of(config, reference, old)) {
            try (NDManager root = NDManager.newBaseManager()) {
                Params p = new Data2VecModel(c).declare(root, 3);
                stds[i++] = new double[] {std(p.get("text.token_embed.weight")), std(p.get("text.pos_embed.weight"))};
            }
        }
        assertThat(stds[0][0]).isCloseTo(0.02, within(0.002));
        assertThat(stds[0][1]).isCloseTo(0.02, within(0.004));
        assertThat(stds[1][0]).isCloseTo(1.0, within(0.1));
        assertThat(stds[1][1]).isCloseTo(0.125, within(0.025));
        assertThat(stds[2]).containsExactly(stds[0]);
    }

    private static double std(NDArray x) {
        float[] v = x.toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float f : v) {
            sum += f;
            sq += (double) f * f;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }

    @Test
    void theLossCountsExactlyTheMaskedValidPositions() {
        Data2VecConfig wide = wideSequences();
        Data2VecModel wideModel = new Data2VecModel(wide);
        Modality m = Modality.TEXT;
        ModalityConfig c = wide.modality(m);
        int[] valid = {4, 40};
        try (NDManager root = NDManager.newBaseManager(); NDScope ignored = new NDScope()) {
            Params p = wideModel.declare(root, 8);
            BatchTensors in = BatchTensors.of(paddedBatch(m, valid, 0, 2), c, root);
            int t = wideModel.tokens(m, in.input().getShape());
            int d = wide.model().dim();
            int clones = c.multiMask();
            MaskBatch mask = Masking.forBatch(c.masking(), 1, t, 5, 0, in.sampleKeys(), in.validTokens(), clones);
            NDArray prediction = wideModel.student(p, m, wideModel.embed(p, m, in.input()), mask, 1, false, 0f).prediction();
            NDArray targets = root.randomNormal(new Shape(2, t, d));
            double scale = c.loss().scale(d);
            double got = Losses.maskedRegression(prediction, Tokens.repeatInterleave(targets, clones),
                    Tokens.mask(root, mask.lossMask()), c.loss().lossBeta(), scale).getFloat();

            float[] pv = prediction.toFloatArray();
            float[] tv = targets.toFloatArray();
            double sum = 0;
            int count = 0;
            for (int r = 0; r < mask.rows(); r++) {
                int v = valid[r / clones];
                Set<Integer> visible = new HashSet<>();
                for (int j = 0; j < mask.keep()[r]; j++) {
                    visible.add(mask.idsKeep()[r][j]);
                }
                for (int pos = 0; pos < v; pos++) {
                    if (visible.contains(pos)) {
                        continue;
                    }
                    count++;
                    double token = 0;
                    for (int ch = 0; ch < d; ch++) {
                        double diff = pv[(r * t + pos) * d + ch] - tv[((r / clones) * t + pos) * d + ch];
                        token += elementLoss(diff, c.loss().lossBeta());
                    }
                    sum += scale * token;
                }
            }
            assertThat(count).isEqualTo(clones * (3 + 24));
            assertThat(mask.lossCount()).isEqualTo(count);
            assertThat(got).isCloseTo(sum / count, within(1e-4 * Math.max(1, Math.abs(sum / count))));
        }
    }

    private static double elementLoss(double diff, double beta) {
        if (beta == 0) {
            return diff * diff;
        }
        double a = Math.abs(diff);
        return a < beta ? 0.5 * diff * diff / beta : a - beta / 2;
    }

    /** The tiny config with 40-token texts at mask_ratio 0.6 and 24-frame audio (12 tokens). */
    private Data2VecConfig wideSequences() {
        ModalityConfig text = config.text().withLocalEncoder(LocalEncoderConfig.text(50, 40))
                .withMasking(new MaskingConfig(MaskKind.RANDOM, 0.6, 1, 0, false));
        return new Data2VecConfig(config.model(), config.image(), config.audio(), text, config.ema(), config.optim(),
                config.collapseGuard());
    }

    /**
     * Rows from..to of a padded batch with these valid lengths (text tokens, audio frames) at the model's width; row i
     * has the same id and content whichever rows are taken with it.
     */
    private static Minibatch paddedBatch(Modality m, int[] valid, int from, int to) {
        int b = to - from;
        List<String> ids = new ArrayList<>();
        int[] lengths = Arrays.copyOfRange(valid, from, to);
        if (m == Modality.TEXT) {
            int len = 40;
            int[] tokens = new int[b * len];
            for (int i = from; i < to; i++) {
                ids.add("row-" + i);
                SplittableRandom r = new SplittableRandom(100 + i);
                for (int j = 0; j < valid[i]; j++) {
                    tokens[(i - from) * len + j] = j == 0 ? 2 : 5 + r.nextInt(45);
                }
            }
            return Minibatch.builder(m, b, len).sampleIds(ids).validLengths(lengths).int32(tokens);
        }
        int frames = 24;
        int mels = 16;
        float[] v = new float[b * frames * mels];
        for (int i = from; i < to; i++) {
            ids.add("row-" + i);
            SplittableRandom r = new SplittableRandom(100 + i);
            for (int j = 0; j < valid[i]; j++) {
                for (int f = 0; f < mels; f++) {
                    v[((i - from) * frames + j) * mels + f] = (float) r.nextGaussian();
                }
            }
        }
        return Minibatch.builder(m, b, frames, mels).sampleIds(ids).validLengths(lengths).fp16(v);
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

    /** a and b (N, K, D) agree at each row's first keep[r] slots (the real visible tokens; the rest is padding). */
    static void assertCloseAtKeptSlots(NDArray a, NDArray b, int[] keep, double tol) {
        assertThat(a.getShape()).isEqualTo(b.getShape());
        long k = a.getShape().get(1);
        long d = a.getShape().get(2);
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double worst = 0;
        for (int r = 0; r < keep.length; r++) {
            for (int j = 0; j < keep[r]; j++) {
                for (int ch = 0; ch < d; ch++) {
                    int i = (int) ((r * k + j) * d + ch);
                    worst = Math.max(worst, Math.abs(x[i] - y[i]));
                }
            }
        }
        assertThat(worst).as("largest difference at the kept slots").isLessThan(tol);
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
