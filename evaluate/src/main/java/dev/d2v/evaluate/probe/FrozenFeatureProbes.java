package dev.d2v.evaluate.probe;

import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.train.model.Readout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Both frozen-feature protocols on one (checkpoint, modality, task): the linear probe and the k-NN from the
 * same train/test features, as {@link EvalResult}s with their settings and timings as extras. The k-NN's extras
 * also carry {@code centred_accuracy}: the same k-NN after the training features' mean is subtracted from both splits
 * (SimpleShot's "CL2N", Wang et al. 2019), which features with one large shared direction need before a cosine. The baseline is
 * attached by the caller ({@link EvalResult#withBaseline}) once the random-init encoder's figures exist.
 */
public final class FrozenFeatureProbes {

    /**
     * The two protocols' settings and the encoder outputs they read.
     *
     * @param readout what a checkpoint's and the random-init encoder's features are: the linear probe reads them all,
     *                the k-NN the last block's part ({@link #run}'s knnColumns); raw features have their own
     */
    public record Config(LinearProbe.Config linear, Knn.Config knn, Readout readout) {
        public Config {
            Objects.requireNonNull(readout, "readout");
        }

        /** Both protocols' defaults on the {@link #DEFAULT_READOUT}. */
        public static Config defaults() {
            return defaults(DEFAULT_READOUT);
        }

        public static Config defaults(Readout readout) {
            return new Config(LinearProbe.Config.defaults(), Knn.Config.defaults(), readout);
        }

        public Config withThreads(int threads) {
            return new Config(linear.withThreads(Math.min(linear.threads(), threads)),
                    knn.withThreads(Math.min(knn.threads(), threads)), readout);
        }
    }

    /** The readout of `d2v evaluate` without --readout. */
    public static final Readout DEFAULT_READOUT = Readout.LAYERS;

    private FrozenFeatureProbes() {
    }

    /** Linear probe then k-NN; both train on {@code train} and report top-1 accuracy on {@code test}. */
    public static List<EvalResult> run(String checkpoint, long step, Modality modality, String task, FeatureSet train,
                                       FeatureSet test, int numClasses, Config config) {
        return run(checkpoint, step, modality, task, train, test, numClasses, config, 0, () -> { });
    }

    /**
     * The same, the k-NN on the last {@code knnColumns} features only (0: all), calling {@code pace} after each L-BFGS
     * iteration and each block of k-NN queries (the evaluator's CPU share sleeps there; {@code fit_s} includes those
     * sleeps). An encoder's {@link Readout#LAYERS} features end with the last block's: its k-NN reads those alone, as
     * DINO's k-NN reads the final output where its linear evaluation reads four blocks. A cosine over pooled outputs
     * of several layers would weigh them by their scales, which nothing sets.
     */
    public static List<EvalResult> run(String checkpoint, long step, Modality modality, String task, FeatureSet train,
                                       FeatureSet test, int numClasses, Config config, int knnColumns, Runnable pace) {
        Map<String, Double> common = new LinkedHashMap<>();
        common.put("train_rows", (double) train.rows());
        common.put("test_rows", (double) test.rows());

        LinearModel model = LinearProbe.fit(train.features(), train.labels(), numClasses, config.linear(), pace);
        Map<String, Double> linearExtras = new LinkedHashMap<>(common);
        linearExtras.put("dims", (double) train.dims());
        linearExtras.put("l2", model.l2());
        linearExtras.put("iterations", (double) model.iterations());
        linearExtras.put("train_accuracy", model.trainAccuracy());
        linearExtras.put("fit_s", model.fitSeconds());
        EvalResult linear = new EvalResult(checkpoint, step, modality, task, Protocol.LINEAR,
                model.accuracy(test.features(), test.labels()), Double.NaN, linearExtras);

        long t0 = System.nanoTime();
        FeatureSet knnTrain = train.lastColumns(knnColumns);
        FeatureSet knnTest = test.lastColumns(knnColumns);
        double knnAccuracy = Knn.accuracy(knnTrain.features(), knnTrain.labels(), knnTest.features(), knnTest.labels(),
                numClasses, config.knn(), pace);
        Map<String, Double> knnExtras = new LinkedHashMap<>(common);
        knnExtras.put("dims", (double) knnTrain.dims());
        knnExtras.put("k", (double) config.knn().k());
        knnExtras.put("temperature", config.knn().temperature());
        knnExtras.put("fit_s", (System.nanoTime() - t0) / 1e9);
        float[][][] centred = Knn.centred(knnTrain.features(), knnTest.features());
        knnExtras.put("centred_accuracy", Knn.accuracy(centred[0], train.labels(), centred[1], test.labels(), numClasses,
                config.knn(), pace));
        EvalResult knn = new EvalResult(checkpoint, step, modality, task, Protocol.KNN, knnAccuracy, Double.NaN, knnExtras);
        return List.of(linear, knn);
    }
}
