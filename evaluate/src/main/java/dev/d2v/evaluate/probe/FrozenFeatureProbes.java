package dev.d2v.evaluate.probe;

import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Both frozen-feature protocols on one (checkpoint, modality, task): the linear probe and the k-NN from the
 * same train/test features, as {@link EvalResult}s with their settings and timings as extras. The k-NN's extras
 * also carry {@code centred_accuracy}: the same k-NN after the training features' mean is subtracted from both splits
 * (SimpleShot's "CL2N", Wang et al. 2019), which features with one large shared direction need before a cosine. The baseline is
 * attached by the caller ({@link EvalResult#withBaseline}) once the random-init encoder's figures exist.
 */
public final class FrozenFeatureProbes {

    /** The two protocols' settings. */
    public record Config(LinearProbe.Config linear, Knn.Config knn) {
        public static Config defaults() {
            return new Config(LinearProbe.Config.defaults(), Knn.Config.defaults());
        }
    }

    private FrozenFeatureProbes() {
    }

    /** Linear probe then k-NN; both train on {@code train} and report top-1 accuracy on {@code test}. */
    public static List<EvalResult> run(String checkpoint, long step, Modality modality, String task, FeatureSet train,
                                       FeatureSet test, int numClasses, Config config) {
        return run(checkpoint, step, modality, task, train, test, numClasses, config, () -> { });
    }

    /**
     * The same, calling {@code pace} after each L-BFGS iteration and each block of k-NN queries (the evaluator's CPU
     * share sleeps there; {@code fit_s} includes those sleeps).
     */
    public static List<EvalResult> run(String checkpoint, long step, Modality modality, String task, FeatureSet train,
                                       FeatureSet test, int numClasses, Config config, Runnable pace) {
        Map<String, Double> common = new LinkedHashMap<>();
        common.put("train_rows", (double) train.rows());
        common.put("test_rows", (double) test.rows());
        common.put("dims", (double) train.dims());

        LinearModel model = LinearProbe.fit(train.features(), train.labels(), numClasses, config.linear(), pace);
        Map<String, Double> linearExtras = new LinkedHashMap<>(common);
        linearExtras.put("l2", model.l2());
        linearExtras.put("iterations", (double) model.iterations());
        linearExtras.put("train_accuracy", model.trainAccuracy());
        linearExtras.put("fit_s", model.fitSeconds());
        EvalResult linear = new EvalResult(checkpoint, step, modality, task, Protocol.LINEAR,
                model.accuracy(test.features(), test.labels()), Double.NaN, linearExtras);

        long t0 = System.nanoTime();
        double knnAccuracy = Knn.accuracy(train.features(), train.labels(), test.features(), test.labels(), numClasses,
                config.knn(), pace);
        Map<String, Double> knnExtras = new LinkedHashMap<>(common);
        knnExtras.put("k", (double) config.knn().k());
        knnExtras.put("temperature", config.knn().temperature());
        knnExtras.put("fit_s", (System.nanoTime() - t0) / 1e9);
        float[][][] centred = Knn.centred(train.features(), test.features());
        knnExtras.put("centred_accuracy", Knn.accuracy(centred[0], train.labels(), centred[1], test.labels(), numClasses,
                config.knn(), pace));
        EvalResult knn = new EvalResult(checkpoint, step, modality, task, Protocol.KNN, knnAccuracy, Double.NaN, knnExtras);
        return List.of(linear, knn);
    }
}
