package dev.d2v.train.targets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.d2v.train.config.FinalNorm;
import dev.d2v.train.config.TargetConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class TargetsTest {

    private static final double S = 1 / Math.sqrt(1 + Targets.EPS); // x / sqrt(var + eps) with var 1

    @Test
    void instanceNormPerChannelOverTime() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one example, T = 2, D = 2: channel 0 = [1, 3] (mean 2, var 1), channel 1 = [5, 5] (var 0)
            NDArray x = m.create(new float[] {1, 5, 3, 5}, new Shape(1, 2, 2));
            float[] y = Targets.instanceNorm(x, null).toFloatArray();
            assertThat(y[0]).isCloseTo((float) -S, within(1e-5f));
            assertThat(y[2]).isCloseTo((float) S, within(1e-5f));
            assertThat(y[1]).isEqualTo(0f);
            assertThat(y[3]).isEqualTo(0f);
        }
    }

    @Test
    void thePooledTargetIsStandardisedPerChannelOverTheBatch() {
        try (NDManager m = NDManager.newBaseManager()) {
            // B = 2, D = 2: channel 0 = [1, 3] over the rows (mean 2, var 1), channel 1 = [7, 7], shared by every row
            NDArray y = m.create(new float[] {1, 7, 3, 7}, new Shape(2, 2));
            float[] z = Targets.standardiseOverBatch(y).toFloatArray();
            assertThat(z[0]).isCloseTo((float) -S, within(1e-5f));
            assertThat(z[2]).isCloseTo((float) S, within(1e-5f));
            assertThat(z[1]).as("what every row shares is removed").isEqualTo(0f);
            assertThat(z[3]).isEqualTo(0f);
        }
    }

    @Test
    void paddingIsLeftOutOfTheStatistics() {
        try (NDManager m = NDManager.newBaseManager()) {
            // T = 3 with the last step padding: [1, 3, 100] normalises as [1, 3] would; the padded slot becomes 0
            NDArray x = m.create(new float[] {1, 3, 100}, new Shape(1, 3, 1));
            NDArray valid = m.create(new float[] {1, 1, 0}, new Shape(1, 3, 1));
            float[] y = Targets.instanceNorm(x, valid).toFloatArray();
            assertThat(y[0]).isCloseTo((float) -S, within(1e-5f));
            assertThat(y[1]).isCloseTo((float) S, within(1e-5f));
            assertThat(y[2]).isEqualTo(0f);
        }
    }

    @Test
    void averageOfNormalisedLayersThenLayerNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            // layer a = [[1, 2], [3, 6]], layer b = [[0, 0], [2, 2]] (T = 2, D = 2)
            NDArray a = m.create(new float[] {1, 2, 3, 6}, new Shape(1, 2, 2));
            NDArray b = m.create(new float[] {0, 0, 2, 2}, new Shape(1, 2, 2));
            // per channel over time every layer becomes [-S, S]: the average is [[-S, -S], [S, S]]
            float[] avg = Targets.build(List.of(a, b), null, new TargetConfig(2, true, FinalNorm.NONE, false)).toFloatArray();
            assertThat(avg).containsExactly(new float[] {(float) -S, (float) -S, (float) S, (float) S}, within(1e-5f));
            // without instance norm: plain mean [[0.5, 1], [2.5, 4]]; LayerNorm per token: [-1, 1] / sqrt(1 + eps / 0.0625)
            float[] ln = Targets.build(List.of(a, b), null, new TargetConfig(2, false, FinalNorm.LAYER_NORM, false)).toFloatArray();
            double s1 = 0.25 / Math.sqrt(0.0625 + Targets.EPS);
            double s2 = 0.75 / Math.sqrt(0.5625 + Targets.EPS);
            assertThat(ln).containsExactly(new float[] {(float) -s1, (float) s1, (float) -s2, (float) s2}, within(1e-5f));
            // the teacher's activations are not changed by the average
            assertThat(a.toFloatArray()).containsExactly(1, 2, 3, 6);
        }
    }

    @Test
    void positionCentringRemovesWhatPositionAlonePredicts() {
        try (NDManager m = NDManager.newBaseManager()) {
            // B = 3, T = 2, D = 1; row 2 has only position 0. Position 0: [1, 2, 6] (mean 3); position 1: [4, 8, pad]
            // (mean 6 over the two real rows): the result is [-2, -2 | -1, 2 | 3, 0]
            NDArray y = m.create(new float[] {1, 4, 2, 8, 6, 0}, new Shape(3, 2, 1));
            NDArray valid = m.create(new float[] {1, 1, 1, 1, 1, 0}, new Shape(3, 2, 1));
            assertThat(Targets.centerPositions(y, valid).toFloatArray())
                    .containsExactly(new float[] {-2, -2, -1, 2, 3, 0}, within(1e-6f));
            // no padding: the plain batch mean per position
            assertThat(Targets.centerPositions(m.create(new float[] {1, 4, 3, 8}, new Shape(2, 2, 1)), null).toFloatArray())
                    .containsExactly(new float[] {-1, -2, 1, 2}, within(1e-6f));
        }
    }

    @Test
    void centringIsAppliedBeforeTheFinalNormOnlyWhenConfigured() {
        try (NDManager m = NDManager.newBaseManager()) {
            // two rows with the same layer output: position alone predicts everything, so the centred targets are 0
            NDArray f = m.create(new float[] {1, 2, 3, 6, 1, 2, 3, 6}, new Shape(2, 2, 2));
            float[] plain = Targets.build(List.of(f), null, new TargetConfig(1, true, FinalNorm.NONE, false)).toFloatArray();
            float[] centred = Targets.build(List.of(f), null, new TargetConfig(1, true, FinalNorm.NONE, true)).toFloatArray();
            assertThat(plain[0]).isCloseTo((float) -S, within(1e-5f));
            assertThat(centred).containsOnly(0f);
        }
    }
}
