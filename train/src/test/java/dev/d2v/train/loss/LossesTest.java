package dev.d2v.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class LossesTest {

    // pred - target over (N=1, T=3, D=2): token 0 diff (1, -3), token 1 diff (0.5, 0), token 2 diff (10, 10)
    private static final float[] PRED = {1, -3, 0.5f, 0, 10, 10};
    private static final float[] MASK = {1, 1, 0}; // token 2 unmasked

    @Test
    void squaredErrorOverMaskedTokens() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray loss = Losses.maskedRegression(m.create(PRED, new Shape(1, 3, 2)), m.zeros(new Shape(1, 3, 2)),
                    m.create(MASK, new Shape(1, 3)), 0, 0.5);
            // token 0: 1 + 9 = 10; token 1: 0.25; scale 0.5; 2 tokens -> 0.5 * 10.25 / 2
            assertThat(loss.getFloat()).isCloseTo(2.5625f, within(1e-6f));
        }
    }

    @Test
    void smoothL1WithBeta() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray loss = Losses.maskedRegression(m.create(PRED, new Shape(1, 3, 2)), m.zeros(new Shape(1, 3, 2)),
                    m.create(MASK, new Shape(1, 3)), 2.0, 1.0);
            // beta 2: |1| < 2 -> 0.5 * 1 / 2 = 0.25; |-3| >= 2 -> 3 - 1 = 2; 0.5 -> 0.0625; 0 -> 0
            assertThat(loss.getFloat()).isCloseTo((0.25f + 2f + 0.0625f) / 2, within(1e-6f));
        }
    }

    @Test
    void unmaskedPositionsNeitherChangeTheLossNorGetGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.zeros(new Shape(1, 3, 2));
            NDArray mask = m.create(MASK, new Shape(1, 3));
            float[] changed = PRED.clone();
            changed[4] = 1e6f;
            changed[5] = Float.NaN;
            float a = Losses.maskedRegression(m.create(PRED, new Shape(1, 3, 2)), target, mask, 0, 1).getFloat();
            float b = Losses.maskedRegression(m.create(changed, new Shape(1, 3, 2)), target, mask, 0, 1).getFloat();
            assertThat(b).isEqualTo(a);

            NDArray pred = m.create(PRED, new Shape(1, 3, 2));
            pred.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(Losses.maskedRegression(pred, target, mask, 0, 1));
            }
            // d/dpred of sum(diff^2) / 2 = diff: (1, -3, 0.5, 0) at masked tokens, 0 at token 2
            assertThat(pred.getGradient().toFloatArray()).containsExactly(1f, -3f, 0.5f, 0f, 0f, 0f);
        }
    }

    @Test
    void clsLossAgainstTheMeanTarget() {
        try (NDManager m = NDManager.newBaseManager()) {
            // targets (B=1, T=2, D=2): mean over t = (2, 3); two clones
            NDArray targets = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 2, 2));
            NDArray cls = m.create(new float[] {2, 3, 4, 3}, new Shape(2, 2));
            // rows: 0 and (2^2 + 0) = 4 -> mean 2; times weight 0.01 * scale 0.5
            assertThat(Losses.clsLoss(cls, targets, 2, 0.01, 0.5).getFloat()).isCloseTo(0.01f, within(1e-7f));
        }
    }

    @Test
    void pooledLossAgainstEachSamplesTargetRepeatedOverItsClones() {
        try (NDManager m = NDManager.newBaseManager()) {
            // targets (B=2, D=2); two clones each: rows 0, 1 -> sample 0 (1, -1), rows 2, 3 -> sample 1 (-1, 1)
            NDArray target = m.create(new float[] {1, -1, -1, 1}, new Shape(2, 2));
            NDArray pooled = m.create(new float[] {1, -1, 0, -1, -1, 1, -1, 3}, new Shape(4, 2));
            // squared distances per row: 0, 1, 0, 4 -> mean 1.25; times weight 2 * scale 0.5 (the targets tiled
            // instead, s0 s1 s0 s1, would give 17 / 4)
            assertThat(Losses.pooledLoss(pooled, target, 2, 2.0, 0.5).getFloat()).isCloseTo(1.25f, within(1e-6f));
            assertThatThrownBy(() -> Losses.pooledLoss(pooled, target, 3, 1.0, 1.0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match");
        }
    }
}
