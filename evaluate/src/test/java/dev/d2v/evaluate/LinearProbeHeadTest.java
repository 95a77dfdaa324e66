package dev.d2v.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.evaluate.probe.LinearModel;
import dev.d2v.evaluate.probe.LinearProbe;
import dev.d2v.evaluate.finetune.FineTune;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LP-FT's head: the probe's affine map read off as a Linear's weight and bias gives the probe's logits. */
class LinearProbeHeadTest {

    @Test
    void weightAndBiasReproduceTheProbesLogits() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 300;
        int d = 6;
        float[][] x = new float[n][d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int j = 0; j < d; j++) {
                x[i][j] = (float) (r.nextGaussian() * (j + 1) + 3 + (j == y[i] ? 2 : 0));   // scales and offsets differ
            }
        }
        LinearProbe.Config config = LinearProbe.Config.defaults();
        FineTune.HeadWeights h = CheckpointEvaluation.linearProbeHead(config).fit(x, y, 3);
        LinearModel probe = LinearProbe.fit(x, y, 3, config);
        for (int i = 0; i < 20; i++) {
            double[] expected = probe.logits(x[i]);
            for (int c = 0; c < 3; c++) {
                double z = h.bias()[c];
                for (int j = 0; j < d; j++) {
                    z += h.weight()[c][j] * x[i][j];
                }
                assertThat(z).isCloseTo(expected[c], within(1e-3 * (1 + Math.abs(expected[c]))));
            }
        }
    }
}
