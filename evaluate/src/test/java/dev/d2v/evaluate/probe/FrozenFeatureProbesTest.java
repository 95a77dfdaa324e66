package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrozenFeatureProbesTest {
    @Test
    void linearAndKnnResultsWithTheirSettings() {
        Synthetic.Task train = Synthetic.blobs(600, 12, 3, 10, 1, 1);
        Synthetic.Task test = Synthetic.blobs(300, 12, 3, 10, 1, 2);
        List<EvalResult> rs = FrozenFeatureProbes.run("step-000000100", 100, Modality.AUDIO, "spoken-digits",
                new FeatureSet(train.x(), train.y()), new FeatureSet(test.x(), test.y()), 3, FrozenFeatureProbes.Config.defaults());
        assertThat(rs).extracting(EvalResult::protocol).containsExactly(Protocol.LINEAR, Protocol.KNN);
        assertThat(rs).extracting(EvalResult::accuracy).containsOnly(1.0);
        assertThat(rs).allSatisfy(r -> assertThat(r.hasBaseline()).isFalse());
        assertThat(rs.get(0).extras()).containsKeys("l2", "iterations", "train_accuracy", "fit_s", "train_rows", "test_rows", "dims");
        assertThat(rs.get(1).extras()).containsEntry("k", 20.0).containsEntry("train_rows", 600.0).containsKey("centred_accuracy");
        assertThat(rs.get(0).withBaseline(0.4).baselineAccuracy()).isEqualTo(0.4);
    }

    /**
     * With knnColumns the k-NN reads the rows' last columns only (a layers readout's last block) while the linear probe
     * reads them all: 40 leading columns of loud class-free noise hide the 12 informative ones from a cosine over
     * every column, not from the k-NN over the last 12.
     */
    @Test
    void theKnnReadsTheLastColumnsAndTheLinearProbeAll() {
        Synthetic.Task train = Synthetic.blobs(600, 12, 3, 10, 1, 1);
        Synthetic.Task test = Synthetic.blobs(300, 12, 3, 10, 1, 2);
        FeatureSet a = new FeatureSet(withNoise(train.x(), 3), train.y());
        FeatureSet b = new FeatureSet(withNoise(test.x(), 4), test.y());
        List<EvalResult> all = FrozenFeatureProbes.run("c", 0, Modality.IMAGE, "t", a, b, 3,
                FrozenFeatureProbes.Config.defaults(), 0, () -> { });
        List<EvalResult> last = FrozenFeatureProbes.run("c", 0, Modality.IMAGE, "t", a, b, 3,
                FrozenFeatureProbes.Config.defaults(), 12, () -> { });
        assertThat(all.get(1).accuracy()).as("k-NN over all 52 columns").isLessThan(0.7);
        assertThat(last.get(1).accuracy()).as("k-NN over the last 12").isEqualTo(1.0);
        assertThat(last.get(1).extras()).containsEntry("dims", 12.0);
        assertThat(last.get(0).extras()).containsEntry("dims", 52.0);
        assertThat(last.get(0).accuracy()).as("the linear probe, all columns either way").isEqualTo(all.get(0).accuracy());
    }

    private static float[][] withNoise(float[][] x, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] out = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = new float[40 + x[i].length];
            for (int j = 0; j < 40; j++) {
                out[i][j] = (float) (100 * r.nextGaussian());
            }
            System.arraycopy(x[i], 0, out[i], 40, x[i].length);
        }
        return out;
    }
}
