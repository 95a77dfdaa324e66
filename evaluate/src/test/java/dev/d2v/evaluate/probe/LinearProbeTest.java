package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LinearProbeTest {

    @Test
    void separableBlobsReachFullAccuracy() {
        Synthetic.Task train = Synthetic.blobs(1000, 20, 5, 10, 1, 1);
        Synthetic.Task test = Synthetic.blobs(1000, 20, 5, 10, 1, 2);
        LinearModel model = LinearProbe.fit(train.x(), train.y(), 5, LinearProbe.Config.defaults());
        assertThat(model.accuracy(test.x(), test.y())).isEqualTo(1.0);
        assertThat(model.trainAccuracy()).isEqualTo(1.0);
        assertThat(model.validationAccuracy()).hasSize(5);
        LinearModel quick = LinearProbe.fit(train.x(), train.y(), 5, LinearProbe.Config.quick());
        assertThat(quick.accuracy(test.x(), test.y())).isEqualTo(1.0);
        assertThat(quick.validationAccuracy()).containsOnlyKeys(1e-3, 1e-2, 1e-1);
    }

    @Test
    void noisyGaussiansReachBayesAccuracy() {
        double m = 1.0; // Bayes accuracy Phi(1) = 0.8413
        double bayes = Synthetic.phi(m);
        assertThat(bayes).isCloseTo(0.841345, within(1e-5));
        Synthetic.Task train = Synthetic.twoGaussians(4000, 10, m, 3);
        Synthetic.Task test = Synthetic.twoGaussians(40_000, 10, m, 4);
        LinearModel model = LinearProbe.fit(train.x(), train.y(), 2, LinearProbe.Config.defaults());
        double acc = model.accuracy(test.x(), test.y());
        // test-set noise: sd = sqrt(0.84 * 0.16 / 40000) = 0.0018; estimation error of 11 weights from 4000 rows
        // costs well under 0.5%
        assertThat(acc).isBetween(bayes - 0.01, bayes + 0.006);
    }

    @Test
    void deterministicGivenTheSeedWhateverTheThreadCount() {
        Synthetic.Task train = Synthetic.blobs(5000, 16, 4, 2, 1.5, 5);
        Synthetic.Task test = Synthetic.blobs(500, 16, 4, 2, 1.5, 6);
        LinearProbe.Config config = LinearProbe.Config.defaults();
        LinearModel a = LinearProbe.fit(train.x(), train.y(), 4, config.withThreads(1));
        LinearModel b = LinearProbe.fit(train.x(), train.y(), 4, config.withThreads(2));
        assertThat(a.l2()).isEqualTo(b.l2());
        assertThat(a.validationAccuracy()).isEqualTo(b.validationAccuracy());
        for (float[] row : test.x()) {
            assertThat(a.logits(row)).containsExactly(b.logits(row));
        }
        LinearModel otherSeed = LinearProbe.fit(train.x(), train.y(), 4, config.withSeed(7));
        assertThat(otherSeed.accuracy(test.x(), test.y())).isCloseTo(a.accuracy(test.x(), test.y()), within(0.03));
    }

    @Test
    void pacedFitCallsThePaceEveryIterationAndGivesTheSameModel() {
        Synthetic.Task train = Synthetic.blobs(2000, 16, 4, 2, 1.5, 5);
        Synthetic.Task test = Synthetic.blobs(200, 16, 4, 2, 1.5, 6);
        LinearProbe.Config config = LinearProbe.Config.quick().withThreads(1);
        int[] calls = {0};
        LinearModel paced = LinearProbe.fit(train.x(), train.y(), 4, config, () -> calls[0]++);
        LinearModel plain = LinearProbe.fit(train.x(), train.y(), 4, config);
        // one call per accepted L-BFGS iteration of the grid fits and the final fit
        assertThat(calls[0]).isGreaterThanOrEqualTo(paced.iterations())
                .isLessThanOrEqualTo(config.l2Grid().size() * config.gridIterations() + config.maxIterations());
        assertThat(calls[0]).as("the grid fits pace too").isGreaterThan(paced.iterations());
        for (float[] row : test.x()) {
            assertThat(paced.logits(row)).containsExactly(plain.logits(row));
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        int n = 50;
        int dims = 6;
        int classes = 3;
        Synthetic.Task t = Synthetic.blobs(n, dims, classes, 1, 1, 8);
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        ForkJoinPool pool = new ForkJoinPool(2);
        SoftmaxObjective f = new SoftmaxObjective(t.x(), t.y(), rows, classes, 0.3, pool);
        Random r = new Random(9);
        double[] theta = new double[SoftmaxObjective.parameterCount(classes, dims)];
        for (int j = 0; j < theta.length; j++) {
            theta[j] = r.nextGaussian();
        }
        double[] grad = new double[theta.length];
        f.evaluate(theta, grad);
        double h = 1e-3; // the logits sum in float (noise ~1e-7): a larger step keeps noise/h small
        double[] scratch = new double[theta.length];
        for (int j = 0; j < theta.length; j++) {
            double[] plus = theta.clone();
            double[] minus = theta.clone();
            plus[j] += h;
            minus[j] -= h;
            double numeric = (f.evaluate(plus, scratch) - f.evaluate(minus, scratch)) / (2 * h);
            assertThat(grad[j]).as("d/dtheta[%d]", j).isCloseTo(numeric, within(2e-3));
        }
        pool.shutdown();
    }

    @Test
    void lossOfZeroWeightsIsLogC() {
        Synthetic.Task t = Synthetic.blobs(30, 4, 5, 1, 1, 10);
        int[] rows = IntStream.range(0, 30).toArray();
        SoftmaxObjective f = new SoftmaxObjective(t.x(), t.y(), rows, 5, 1.0, ForkJoinPool.commonPool());
        double[] theta = new double[SoftmaxObjective.parameterCount(5, 4)];
        assertThat(f.evaluate(theta, new double[theta.length])).isCloseTo(Math.log(5), within(1e-12));
    }

    @Test
    void singleStrengthSkipsTheGridAndTinySetsStillFit() {
        Synthetic.Task t = Synthetic.blobs(12, 3, 3, 10, 0.5, 11);
        LinearModel model = LinearProbe.fit(t.x(), t.y(), 3, LinearProbe.Config.defaults());
        assertThat(model.validationAccuracy()).isEmpty(); // 12 rows: nothing to hold out
        assertThat(model.l2()).isEqualTo(1e-3); // the grid's middle
        assertThat(model.accuracy(t.x(), t.y())).isEqualTo(1.0);
        LinearModel fixed = LinearProbe.fit(t.x(), t.y(), 3, LinearProbe.Config.defaults().withL2Grid(List.of(0.5)));
        assertThat(fixed.l2()).isEqualTo(0.5);
    }

    @Test
    void badInputsFailWithClearMessages() {
        float[][] x = {{1, 2}, {3, 4}};
        LinearProbe.Config c = LinearProbe.Config.defaults();
        assertThatThrownBy(() -> LinearProbe.fit(x, new int[] {0, 2}, 2, c)).hasMessageContaining("label 2 at row 1");
        assertThatThrownBy(() -> LinearProbe.fit(x, new int[] {0}, 2, c)).hasMessageContaining("1 labels for 2 rows");
        assertThatThrownBy(() -> LinearProbe.fit(new float[][] {{1, 2}, {3}}, new int[] {0, 1}, 2, c))
                .hasMessageContaining("row 1 has 1 features");
        assertThatThrownBy(() -> LinearProbe.fit(new float[][] {{1, Float.NaN}, {3, 4}}, new int[] {0, 1}, 2, c))
                .hasMessageContaining("non-finite");
        LinearModel m = LinearProbe.fit(x, new int[] {0, 1}, 2, c);
        assertThatThrownBy(() -> m.predict(new float[] {1, 2, 3})).hasMessageContaining("3 dims, the probe was fit on 2");
        assertThatThrownBy(() -> c.withL2Grid(List.of(-1.0))).hasMessageContaining("l2Grid");
    }
}
