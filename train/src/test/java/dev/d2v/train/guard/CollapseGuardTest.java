package dev.d2v.train.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.d2v.train.config.CollapseGuardConfig;
import org.junit.jupiter.api.Test;

class CollapseGuardTest {

    @Test
    void channelStdByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // (2, 2, 2) -> rows (1, 0), (3, 0), (5, 0), (7, 0): channel 0 var (unbiased) = 20/3, channel 1 var 0
            var x = m.create(new float[] {1, 0, 3, 0, 5, 0, 7, 0}, new Shape(2, 2, 2));
            double expected = (Math.sqrt(20.0 / 3 + 1e-6) + Math.sqrt(1e-6)) / 2;
            assertThat(CollapseGuard.channelStd(x)).isCloseTo(expected, within(1e-5));
        }
    }

    @Test
    void verdictsFollowTheBounds() {
        CollapseGuardConfig warn = new CollapseGuardConfig(0.1, 0.01, 100, false);
        CollapseGuardConfig stop = new CollapseGuardConfig(0.1, 0.01, 100, true);
        assertThat(CollapseGuard.check(warn, 99, 0.0, 0.0).action()).isEqualTo(CollapseGuard.Action.OK);
        assertThat(CollapseGuard.check(warn, 100, 0.5, 0.5).action()).isEqualTo(CollapseGuard.Action.OK);
        assertThat(CollapseGuard.check(warn, 100, 0.05, 0.5).action()).isEqualTo(CollapseGuard.Action.WARN);
        var v = CollapseGuard.check(stop, 100, 0.5, 0.001);
        assertThat(v.action()).isEqualTo(CollapseGuard.Action.STOP);
        assertThat(v.message()).contains("prediction spread", "step 100");
    }

    @Test
    void positionShareByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // B = 2, T = 2, D = 1. Targets that depend on position only: [1, 5], [1, 5] -> share 1
            assertThat(CollapseGuard.positionShare(m.create(new float[] {1, 5, 1, 5}, new Shape(2, 2, 1)), null))
                    .isCloseTo(1.0, within(1e-6));
            // no positional component: [1, 3], [3, 1] -> per-position means 2 and 2 -> share 0
            assertThat(CollapseGuard.positionShare(m.create(new float[] {1, 3, 3, 1}, new Shape(2, 2, 1)), null))
                    .isCloseTo(0.0, within(1e-6));
            // [0, 4], [2, 2]: grand mean 2, total 4 + 4 + 0 + 0 = 8; position means 1 and 3, within 1 + 1 + 1 + 1 = 4
            assertThat(CollapseGuard.positionShare(m.create(new float[] {0, 4, 2, 2}, new Shape(2, 2, 1)), null))
                    .isCloseTo(0.5, within(1e-6));
            // padding is left out: the padded 100 would dominate both sums
            assertThat(CollapseGuard.positionShare(m.create(new float[] {0, 4, 2, 2, 9, 100}, new Shape(3, 2, 1)),
                    m.create(new boolean[] {true, true, true, true, false, false}, new Shape(3, 2))))
                    .isCloseTo(0.5, within(1e-6));
            // constant targets: nothing to explain
            assertThat(CollapseGuard.positionShare(m.ones(new Shape(2, 3, 4)), null)).isEqualTo(0.0);
        }
    }
}
