package dev.d2v.evaluate.finetune;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.d2v.evaluate.cpu.CpuShare;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.config.OptimConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Init;
import dev.d2v.train.model.Layers;
import dev.d2v.train.model.Params;
import dev.d2v.train.optim.AdamW;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * The fine-tuning protocol of the evaluation stage: a copy of one modality's encoder plus a head
 * (mean-pool over the real tokens, a fixed standardisation by default, LayerNorm, Linear to the classes), trained end
 * to end with cross-entropy for a fixed budget, then scored on the test split. The head's Linear starts at random or
 * from a {@link HeadFit} (a linear probe: LP-FT). evaluate/EVALUATE.md "Fine-tuning" has the reasons and figures.
 *
 * <p>AdamW over one parameter store (encoder copy + {@code head.*}) with a learning rate per parameter: the head's
 * {@link Config#lr}, the encoder's times {@link Config#encoderLrScale} and, optionally, a layer-wise decay
 * ({@link #lrScale}). Warm-up then cosine ({@link Schedules#learningRate}) over the whole budget.
 *
 * <p>Deterministic given {@link Config#seed}: the head's init, the shuffle of every epoch
 * ({@link Samples#permutation}) and the engine generator (dropout), reseeded from (seed, step) before every step.
 * Everything lives in a base manager of its own, closed at the end, and every step in its own scope; the source
 * parameters are only read (duplicated once), never changed.
 */
public final class FineTune {

    /** Name prefix of the head's parameters. */
    public static final String HEAD = "head";
    /** The standardiser's fixed statistics (D), when {@link Config#standardize}. */
    static final String FEATURE_MEAN = HEAD + ".feature_mean";
    static final String FEATURE_STD = HEAD + ".feature_std";

    /**
     * Fine-tuning settings. The defaults are a small CPU budget: the figure is a comparison between checkpoints (and
     * against the random-init encoder), not a state-of-the-art number.
     *
     * @param epochs         passes over the training split when {@code steps} is 0 (default 1)
     * @param steps          a fixed number of updates, overriding epochs; 0 = use epochs (default
     *                       {@value #DEFAULT_STEPS}: a budget that does not grow with the task, ~half an epoch of a
     *                       2000-sample subset, ~10 s for the cpu preset on one core)
     * @param batchSize      samples per update (default {@value #DEFAULT_BATCH_SIZE}: small probe subsets need many
     *                       updates more than large batches, and a CPU step of 32 is short)
     * @param lr             the head's peak learning rate (default 3e-4, for a head that starts from a linear probe
     *                       ({@link HeadFit}, LP-FT, what the evaluation does): on a 2000-sample Fashion-MNIST subset
     *                       1e-3 and 3e-4 end within a point of each other; a random head wants ~1e-2)
     * @param encoderLrScale the encoder's rate as a fraction of lr (default 0.1: the encoder moves less than the
     *                       head; larger encoder steps moved the pooled features' common part by more than their
     *                       spread across samples, and the loss rose from the probe's 0.53 to 3.0 within 30 updates)
     * @param layerDecay     layer-wise decay: block i of L gets decay^(L + 1 - i), the embedding decay^(L + 1)
     *                       (BEiT, data2vec); default 1 = off (the cpu preset has 4 blocks, too few to matter)
     * @param weightDecay    decoupled weight decay on matrices (biases, norms, 1-D parameters: none); default 0.05
     *                       (MAE and data2vec fine-tuning)
     * @param beta2          Adam second-moment decay (default 0.999, the usual fine-tuning value)
     * @param warmupFraction share of the budget spent warming up linearly from 0 (default 0.1)
     * @param minLrRatio     cosine floor as a fraction of the peak (default 0.01)
     * @param clipGradNorm   global gradient-norm clip, 0 = off (default 5: catches spikes from the fresh head, does not
     *                       bind on ordinary steps)
     * @param seed           head init, shuffles, dropout (default 0)
     * @param standardize    standardise the pooled features with their training-set mean and std, measured once
     *                       before the first update and then fixed (a frozen BatchNorm, as MAE's linear probe head),
     *                       before the head's LayerNorm (default true: the mean-pooled output of a shallow encoder is
     *                       mostly a part common to all inputs; behind a LayerNorm alone the class signal is small next
     *                       to it and AdamW's bounded steps take hundreds of updates to scale it up: 17% on a
     *                       2000-sample Fashion-MNIST subset after 30 updates, where the linear probe has 72%)
     */
    public record Config(int epochs, long steps, int batchSize, double lr, double encoderLrScale, double layerDecay,
                         double weightDecay, double beta2, double warmupFraction, double minLrRatio, double clipGradNorm,
                         long seed, boolean standardize) {

        /** Updates of the default budget. */
        public static final long DEFAULT_STEPS = 30;
        /** Samples per update by default. */
        public static final int DEFAULT_BATCH_SIZE = 32;

        public Config {
            require(epochs >= 0 && steps >= 0 && (epochs > 0 || steps > 0),
                    "fine-tune budget needs epochs > 0 or steps > 0, got epochs " + epochs + ", steps " + steps);
            require(batchSize >= 1, "fine-tune batch size must be >= 1, got " + batchSize);
            require(lr > 0, "fine-tune lr must be > 0, got " + lr);
            require(encoderLrScale >= 0, "fine-tune encoder lr scale must be >= 0 (0 = frozen), got " + encoderLrScale);
            require(layerDecay > 0 && layerDecay <= 1, "fine-tune layer decay must be in (0, 1], got " + layerDecay);
            require(weightDecay >= 0, "fine-tune weight decay must be >= 0, got " + weightDecay);
            require(beta2 >= 0 && beta2 < 1, "fine-tune beta2 must be in [0, 1), got " + beta2);
            require(warmupFraction >= 0 && warmupFraction < 1, "fine-tune warmup fraction must be in [0, 1), got " + warmupFraction);
            require(minLrRatio >= 0 && minLrRatio <= 1, "fine-tune min lr ratio must be in [0, 1], got " + minLrRatio);
            require(clipGradNorm >= 0, "fine-tune clip must be >= 0 (0 = off), got " + clipGradNorm);
        }

        public static Config defaults() {
            return new Config(1, DEFAULT_STEPS, DEFAULT_BATCH_SIZE, 3e-4, 0.1, 1.0, 0.05, 0.999, 0.1, 0.01, 5.0, 0, true);
        }

        /** The same with a budget of epochs (steps reset to 0). */
        public Config withEpochs(int e) {
            return new Config(e, 0, batchSize, lr, encoderLrScale, layerDecay, weightDecay, beta2, warmupFraction,
                    minLrRatio, clipGradNorm, seed, standardize);
        }

        /** The same with a budget of updates (overrides epochs). */
        public Config withSteps(long s) {
            return new Config(epochs, s, batchSize, lr, encoderLrScale, layerDecay, weightDecay, beta2, warmupFraction,
                    minLrRatio, clipGradNorm, seed, standardize);
        }

        public Config withSeed(long s) {
            return new Config(epochs, steps, batchSize, lr, encoderLrScale, layerDecay, weightDecay, beta2,
                    warmupFraction, minLrRatio, clipGradNorm, s, standardize);
        }

        public Config withLr(double headLr, double encoderScale) {
            return new Config(epochs, steps, batchSize, headLr, encoderScale, layerDecay, weightDecay, beta2,
                    warmupFraction, minLrRatio, clipGradNorm, seed, standardize);
        }

        public Config withStandardize(boolean on) {
            return new Config(epochs, steps, batchSize, lr, encoderLrScale, layerDecay, weightDecay, beta2,
                    warmupFraction, minLrRatio, clipGradNorm, seed, on);
        }

        public Config withBatchSize(int b) {
            return new Config(epochs, steps, b, lr, encoderLrScale, layerDecay, weightDecay, beta2, warmupFraction,
                    minLrRatio, clipGradNorm, seed, standardize);
        }

        /** Updates for n training samples: steps, or epochs * ceil(n / batchSize). */
        public long totalSteps(int n) {
            return steps > 0 ? steps : (long) epochs * ((n + batchSize - 1) / batchSize);
        }

        /** The schedule of a budget of total updates: warm-up then cosine to the floor, as pretraining's. */
        public OptimConfig optim(long total) {
            long warmup = (long) Math.floor(warmupFraction * total);
            return new OptimConfig(lr, 0.9, beta2, weightDecay, warmup, Math.max(total, warmup + 1), minLrRatio,
                    clipGradNorm);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }

    /**
     * What a fine-tune gives.
     *
     * @param testAccuracy  top-1 accuracy on the test split, in [0, 1]
     * @param trainAccuracy accuracy on the training batches seen during the last epoch (in training mode)
     * @param trainLoss     the cross-entropy of every update, in order (NaN where a non-finite loss was skipped)
     * @param steps         updates done
     * @param epochs        passes over the training split (fractional with a steps budget)
     * @param trainSamples  training samples
     * @param testSamples   test samples
     * @param seconds       wall time of training and testing
     */
    public record Result(double testAccuracy, double trainAccuracy, List<Double> trainLoss, long steps, double epochs,
                         int trainSamples, int testSamples, double seconds) {
        public Result {
            trainLoss = Collections.unmodifiableList(new ArrayList<>(trainLoss));
        }

        /** Mean loss over the last fraction of the updates (e.g. 0.1: the last tenth), NaN-free. */
        public double finalLoss(double fraction) {
            int n = trainLoss.size();
            int from = Math.max(0, Math.min(n - 1, (int) Math.floor(n * (1 - fraction))));
            double sum = 0;
            int k = 0;
            for (double l : trainLoss.subList(from, n)) {
                if (Double.isFinite(l)) {
                    sum += l;
                    k++;
                }
            }
            return k == 0 ? Double.NaN : sum / k;
        }
    }

    /**
     * Fits the head's Linear on fixed inputs before fine-tuning starts (LP-FT: Kumar et al., "Fine-Tuning can Distort
     * Pretrained Features and Underperform Out-of-Distribution", 2022): the head begins where a linear probe ends, so
     * a short budget spends its updates on the encoder rather than on a random head. A random head learns slowly
     * here besides: mean-pooled features of a shallow encoder share a large common part, and after the LayerNorm the
     * class signal is small next to it, which AdamW's bounded steps take hundreds of updates to scale up.
     */
    @FunctionalInterface
    public interface HeadFit {
        /**
         * @param features   [N][D] the head's inputs at the start: LayerNorm (weight 1, bias 0) of the mean-pooled
         *                   encoder output of every training sample, eval mode
         * @param labels     [N] class ids
         * @return logits = weight x + bias for those inputs
         */
        HeadWeights fit(float[][] features, int[] labels, int numClasses);
    }

    /** A Linear's parameters: weight [C][D] (PyTorch layout), bias [C]. */
    public record HeadWeights(float[][] weight, float[] bias) {}

    private FineTune() {}

    /** Fine-tunes a copy of encoder's modality m (the encoder is not changed); the head starts at random. */
    public static Result run(Encoder encoder, Modality m, List<Minibatch> train, List<Minibatch> test, int numClasses,
                             Config config) {
        return run(encoder.config(), encoder.parameters(), m, train, test, numClasses, config, null, null);
    }

    /**
     * The same with the head's Linear fitted by headFit before the first update (LP-FT; null = random head), and
     * the encoder's pooled features of the training samples when the caller has them already (the frozen probes'
     * cached features, {@link Encoder#features}: [N][D] in batch order; null = computed here).
     */
    public static Result run(Encoder encoder, Modality m, List<Minibatch> train, List<Minibatch> test, int numClasses,
                             Config config, HeadFit headFit, float[][] pooledTrain) {
        return run(encoder.config(), encoder.parameters(), m, train, test, numClasses, config, headFit, pooledTrain);
    }

    /**
     * Fine-tunes a copy of the parameters of modality m's encoder (its local encoder, prenet and trunk blocks; no
     * decoder) with a fresh head on train, then scores it on test.
     *
     * @param source     the encoder's parameters by name; read only
     * @param train      labelled batches (a probe task's train split), re-batched and shuffled here
     * @param test       labelled batches, scored as they are
     * @param numClasses classes; every label must be in [0, numClasses)
     * @param headFit    fits the head's Linear on the initial head inputs (LP-FT); null = the random init
     * @param pooledTrain the source encoder's mean-pooled features of the training samples in batch order, [N][D],
     *                   or null to compute them here (needed for the standardiser and the head fit)
     */
    public static Result run(Data2VecConfig modelConfig, Map<String, NDArray> source, Modality m, List<Minibatch> train,
                             List<Minibatch> test, int numClasses, Config config, HeadFit headFit,
                             float[][] pooledTrain) {
        return run(modelConfig, source, m, train, test, numClasses, config, headFit, pooledTrain, () -> { });
    }

    /**
     * The same, calling {@code pace} after each update and each forward pass over a batch (pooled features, test
     * scoring): the evaluator's CPU governor ({@link CpuShare}) sleeps there. The result does
     * not depend on it.
     */
    public static Result run(Data2VecConfig modelConfig, Map<String, NDArray> source, Modality m, List<Minibatch> train,
                             List<Minibatch> test, int numClasses, Config config, HeadFit headFit,
                             float[][] pooledTrain, Runnable pace) {
        long t0 = System.nanoTime();
        ModalityConfig mc = modelConfig.modality(m);
        if (mc == null) {
            throw new IllegalArgumentException("the model has no " + m.id() + " encoder; configured: " + modelConfig.modalities());
        }
        if (numClasses < 2) {
            throw new IllegalArgumentException("fine-tuning needs at least 2 classes, got " + numClasses);
        }
        Data2VecModel model = new Data2VecModel(modelConfig);
        Samples samples = Samples.of(train, numClasses);
        int n = samples.size();
        long total = config.totalSteps(n);
        OptimConfig optim = config.optim(total);
        Device device = source.isEmpty() ? Device.cpu() : source.values().iterator().next().getDevice();
        try (NDManager root = NDManager.newBaseManager(device)) {
            Params p = copyEncoder(source, model, m, root);
            declareHead(p, new Init(config.seed()), modelConfig.model().dim(), numClasses);
            if (config.standardize() || headFit != null) {
                float[][] pooled = pooledTrain != null ? pooledTrain : pooled(model, p, m, mc, train, root, pace);
                int d = modelConfig.model().dim();
                if (pooled.length != n || pooled[0].length != d) {
                    throw new IllegalArgumentException("pooled training features are " + pooled.length + " x "
                            + pooled[0].length + ", the task has " + n + " training samples of width " + d);
                }
                if (config.standardize()) {
                    putStandardizer(p, pooled);
                }
                if (headFit != null) {
                    fitHead(p, pooled, samples.labels(), numClasses, headFit, root);
                }
            }
            p.view().forEach((name, a) -> a.setRequiresGradient(!fixed(name)));
            Map<String, Double> scales = new HashMap<>();
            int layers = mc.prenetDepth() + model.mainBlocks(m);
            for (String name : p.view().keySet()) {
                scales.put(name, lrScale(name, m, mc.prenetDepth(), layers, config));
            }
            AdamW optimizer = new AdamW(optim, root);   // its manager is under root
            List<Double> losses = new ArrayList<>();
            long t = 0;
            long epoch = 0;
            int correct = 0;
            int seen = 0;
            while (t < total) {
                int[] order = Samples.permutation(n, config.seed(), epoch);
                correct = 0;
                seen = 0;
                for (int from = 0; from < n && t < total; from += config.batchSize(), t++) {
                    Minibatch b = samples.select(order, from, Math.min(n, from + config.batchSize()));
                    double lr = Schedules.learningRate(optim, t);
                    Engine.getInstance().setRandomSeed(Trainer.engineSeed(config.seed(), t));
                    StepOut s = step(model, p, optimizer, m, mc, b, numClasses, name -> lr * scales.get(name), root);
                    losses.add(s.loss());
                    correct += s.correct();
                    seen += b.batchSize();
                    pace.run();
                }
                epoch++;
            }
            double trainAccuracy = seen == 0 ? Double.NaN : (double) correct / seen;
            int[] testCounts = test(model, p, m, mc, test, numClasses, root, pace);
            double accuracy = testCounts[1] == 0 ? 0 : (double) testCounts[0] / testCounts[1];
            return new Result(accuracy, trainAccuracy, losses, t, (double) t * config.batchSize() / n, n, testCounts[1],
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    private record StepOut(double loss, int correct) {}

    /** One update on batch b in its own scope: forward in training mode, cross-entropy, backward, AdamW. */
    private static StepOut step(Data2VecModel model, Params p, AdamW optimizer, Modality m, ModalityConfig mc,
                                Minibatch b, int numClasses, ToDoubleFunction<String> lrOf,
                                NDManager root) {
        try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
            BatchTensors in = BatchTensors.of(b, mc, scope);
            int[] labels = b.labels();
            NDArray y = oneHot(scope, labels, numClasses);
            double loss;
            int correct;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = logits(model, p, m, in, true);
                NDArray l = crossEntropy(logits, y);
                loss = l.getFloat();
                correct = correct(logits, labels);
                if (Double.isFinite(loss)) {
                    collector.backward(l);
                }
            }
            if (Double.isFinite(loss)) {
                optimizer.step(p, name -> !fixed(name), lrOf);
            }
            return new StepOut(loss, correct);
        }
    }

    /** {correct, total} over the test batches, eval mode, one scope per batch. */
    private static int[] test(Data2VecModel model, Params p, Modality m, ModalityConfig mc, List<Minibatch> test,
                              int numClasses, NDManager root, Runnable pace) {
        int correct = 0;
        int total = 0;
        for (Minibatch b : test) {
            int[] labels = b.labels();
            if (labels == null) {
                throw new IllegalArgumentException("a test batch carries no labels: fine-tuning scores labelled batches");
            }
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new IllegalArgumentException("test sample " + b.sampleIds().get(i) + " has label " + labels[i]
                            + ", expected a class id in [0, " + numClasses + ")");
                }
            }
            try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
                correct += correct(logits(model, p, m, BatchTensors.of(b, mc, scope), false), labels);
                total += labels.length;
            }
            pace.run();
        }
        return new int[] {correct, total};
    }

    /** Mean-pooled encoder output (B, D) of every training sample, eval mode, one scope per batch: [N][D]. */
    private static float[][] pooled(Data2VecModel model, Params p, Modality m, ModalityConfig mc, List<Minibatch> train,
                                    NDManager root, Runnable pace) {
        int d = model.config().model().dim();
        List<float[]> rows = new ArrayList<>();
        for (Minibatch b : train) {
            try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
                BatchTensors in = BatchTensors.of(b, mc, scope);
                float[] f = model.features(p, m, in.input(), in.validTokens(), false).toFloatArray();
                for (int i = 0; i < b.batchSize(); i++) {
                    rows.add(Arrays.copyOfRange(f, i * d, (i + 1) * d));
                }
            }
            pace.run();
        }
        return rows.toArray(float[][]::new);
    }

    /** head.feature_mean and head.feature_std (D): per-feature mean and std (floored at 1e-6) of pooled, fixed. */
    static void putStandardizer(Params p, float[][] pooled) {
        int d = pooled[0].length;
        double[] sum = new double[d];
        double[] sq = new double[d];
        for (float[] row : pooled) {
            for (int j = 0; j < d; j++) {
                sum[j] += row[j];
                sq[j] += (double) row[j] * row[j];
            }
        }
        float[] mean = new float[d];
        float[] std = new float[d];
        for (int j = 0; j < d; j++) {
            double mu = sum[j] / pooled.length;
            mean[j] = (float) mu;
            std[j] = (float) Math.max(1e-6, Math.sqrt(Math.max(0, sq[j] / pooled.length - mu * mu)));
        }
        p.put(FEATURE_MEAN, mean, d);
        p.put(FEATURE_STD, std, d);
    }

    /** The fixed (not trained) parameters: the standardiser's statistics. */
    static boolean fixed(String name) {
        return name.equals(FEATURE_MEAN) || name.equals(FEATURE_STD);
    }

    /** Sets head.fc from headFit over the head's initial inputs: LayerNorm (weight 1, bias 0) of the (standardised) pooled features. */
    private static void fitHead(Params p, float[][] pooled, int[] labels, int numClasses, HeadFit headFit,
                                NDManager root) {
        int n = pooled.length;
        int d = pooled[0].length;
        float[][] inputs = new float[n][];
        try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
            float[] flat = new float[n * d];
            for (int i = 0; i < n; i++) {
                System.arraycopy(pooled[i], 0, flat, i * d, d);
            }
            float[] f = headInput(p, scope.create(flat, new Shape(n, d))).toFloatArray();
            for (int i = 0; i < n; i++) {
                inputs[i] = Arrays.copyOfRange(f, i * d, (i + 1) * d);
            }
        }
        HeadWeights w = headFit.fit(inputs, labels, numClasses);
        if (w.weight().length != numClasses || w.bias().length != numClasses) {
            throw new IllegalArgumentException("head fit returned " + w.weight().length + " weight rows and "
                    + w.bias().length + " biases for " + numClasses + " classes");
        }
        float[] flat = new float[numClasses * d];
        for (int c = 0; c < numClasses; c++) {
            if (w.weight()[c].length != d) {
                throw new IllegalArgumentException("head fit weight row " + c + " has " + w.weight()[c].length
                        + " entries, the encoder's width is " + d);
            }
            System.arraycopy(w.weight()[c], 0, flat, c * d, d);
        }
        NDArray weight = p.get(HEAD + ".fc.weight");
        NDArray bias = p.get(HEAD + ".fc.bias");
        try (NDManager scratch = weight.getManager().newSubManager()) {
            Params.copyInto(weight, scratch.create(flat, weight.getShape()));
            Params.copyInto(bias, scratch.create(w.bias(), bias.getShape()));
        }
    }

    // ---- the head and the loss: small pure functions ----

    /** Input -> (B, C): encoder output mean-pooled over the real tokens (B, D), [standardised,] LayerNorm, Linear. */
    public static NDArray logits(Data2VecModel model, Params p, Modality m, BatchTensors in, boolean training) {
        NDArray pooled = model.features(p, m, in.input(), in.validTokens(), training);    // (B, D)
        return Layers.linear(p, HEAD + ".fc", headInput(p, pooled));
    }

    /** pooled (B, D) -> (B, D): standardised with the fixed statistics when present, then the head's LayerNorm. */
    static NDArray headInput(Params p, NDArray pooled) {
        NDArray x = p.has(FEATURE_MEAN) ? pooled.sub(p.get(FEATURE_MEAN)).div(p.get(FEATURE_STD)) : pooled;
        return Layers.layerNorm(p, HEAD + ".norm", x);
    }

    /** head.norm (LayerNorm D) and head.fc (Linear D -> C, weight N(0, 0.02^2), bias 0). */
    public static void declareHead(Params p, Init init, int dim, int numClasses) {
        Layers.declareLayerNorm(p, HEAD + ".norm", dim);
        Layers.declareLinear(p, init, HEAD + ".fc", dim, numClasses);
    }

    /** logits (B, C), one-hot y (B, C) -> mean over B of -log softmax(logits)[label]: a scalar. */
    public static NDArray crossEntropy(NDArray logits, NDArray y) {
        return logits.logSoftmax(1).mul(y).sum(new int[] {1}).neg().mean();
    }

    /** (B, C) float one-hot of labels. */
    static NDArray oneHot(NDManager manager, int[] labels, int numClasses) {
        float[] v = new float[labels.length * numClasses];
        for (int i = 0; i < labels.length; i++) {
            v[i * numClasses + labels[i]] = 1f;
        }
        return manager.create(v, new Shape(labels.length, numClasses));
    }

    /** Rows whose arg-max (first on ties) equals the label. */
    static int correct(NDArray logits, int[] labels) {
        float[] z = logits.toType(DataType.FLOAT32, false).toFloatArray();
        int c = z.length / labels.length;
        int ok = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int k = 1; k < c; k++) {
                if (z[i * c + k] > z[i * c + best]) {
                    best = k;
                }
            }
            ok += best == labels[i] ? 1 : 0;
        }
        return ok;
    }

    /**
     * The learning-rate multiplier of a parameter: 1 for the head; for the encoder encoderLrScale * layerDecay^(L + 1 -
     * id), with id 0 for the local encoder (embedding), 1..P for prenet blocks, P + 1..L for trunk blocks (BEiT's
     * layer ids; L = P + main blocks).
     */
    public static double lrScale(String name, Modality m, int prenetDepth, int layers, Config c) {
        if (name.startsWith(HEAD + ".")) {
            return 1.0;
        }
        int id;
        String prenet = m.id() + ".prenet.";
        String ownTrunk = m.id() + ".blocks.";   // model.shared_trunk = false
        if (name.startsWith("blocks.")) {
            id = prenetDepth + 1 + index(name, "blocks.".length());
        } else if (name.startsWith(ownTrunk)) {
            id = prenetDepth + 1 + index(name, ownTrunk.length());
        } else if (name.startsWith(prenet)) {
            id = 1 + index(name, prenet.length());
        } else {
            id = 0;
        }
        return c.encoderLrScale() * Math.pow(c.layerDecay(), layers + 1 - id);
    }

    private static int index(String name, int from) {
        return Integer.parseInt(name.substring(from, name.indexOf('.', from)));
    }

    /**
     * A fp32 copy, under root, of what modality m's encoder reads: its local encoder and prenet, the trunk blocks it
     * runs through; no decoder. A missing parameter fails at the first forward, naming it.
     */
    static Params copyEncoder(Map<String, NDArray> source, Data2VecModel model, Modality m, NDManager root) {
        Params p = new Params(root);
        Predicate<String> used = model.usedBy(m);
        try {
            for (Map.Entry<String, NDArray> e : source.entrySet()) {
                if (used.test(e.getKey()) && Data2VecModel.inTeacher(e.getKey())) {
                    NDArray c = e.getValue().duplicate();   // lands in the source's manager; put moves it to p's
                    if (c.getDataType() != DataType.FLOAT32) {
                        NDArray f = c.toType(DataType.FLOAT32, false);
                        c.close();
                        c = f;
                    }
                    p.put(e.getKey(), c);
                }
            }
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }
}
