package dev.d2v.train.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.train.config.EmaConfig;
import dev.d2v.train.config.EmaSchedule;
import dev.d2v.train.config.OptimConfig;
import org.junit.jupiter.api.Test;

class SchedulesTest {

    // lr 1e-3, warmup 10, total 110 (cosine over 100 steps), floor 0.1 * lr
    private static final OptimConfig O = new OptimConfig(1e-3, 0.9, 0.98, 0.01, 10, 110, 0.1, 0);

    @Test
    void learningRateWarmsUpThenDecaysToTheFloor() {
        assertThat(Schedules.learningRate(O, 0)).isZero();
        assertThat(Schedules.learningRate(O, 5)).isCloseTo(5e-4, within(1e-12));
        assertThat(Schedules.learningRate(O, 10)).isCloseTo(1e-3, within(1e-12));
        // halfway: floor + (lr - floor) * (1 + cos(pi/2)) / 2 = 1e-4 + 9e-4 / 2
        assertThat(Schedules.learningRate(O, 60)).isCloseTo(5.5e-4, within(1e-12));
        // a quarter: 1e-4 + 9e-4 * (1 + cos(pi/4)) / 2 = 1e-4 + 9e-4 * 0.853553...
        assertThat(Schedules.learningRate(O, 35)).isCloseTo(1e-4 + 9e-4 * 0.8535533905932737, within(1e-12));
        assertThat(Schedules.learningRate(O, 110)).isCloseTo(1e-4, within(1e-12));
        assertThat(Schedules.learningRate(O, 10_000)).isCloseTo(1e-4, within(1e-12));
    }

    @Test
    void linearTauFromStepZero() {
        EmaConfig e = new EmaConfig(0.99, 0.999, 100, EmaSchedule.LINEAR, false);
        assertThat(Schedules.tau(e, 10, 0)).isCloseTo(0.99, within(1e-12));
        assertThat(Schedules.tau(e, 10, 25)).isCloseTo(0.99 + 0.009 * 0.25, within(1e-12));
        assertThat(Schedules.tau(e, 10, 100)).isCloseTo(0.999, within(1e-12));
        assertThat(Schedules.tau(e, 10, 500)).isCloseTo(0.999, within(1e-12));
    }

    @Test
    void cosineTauHoldsDuringWarmupThenAnneals() {
        EmaConfig e = new EmaConfig(0.99, 0.999, 100, EmaSchedule.COSINE, true);
        assertThat(Schedules.tau(e, 10, 0)).isCloseTo(0.99, within(1e-12));
        assertThat(Schedules.tau(e, 10, 10)).isCloseTo(0.99, within(1e-12));
        // 50 steps after warmup: end - (end - start) * (1 + cos(pi/2)) / 2 = midpoint
        assertThat(Schedules.tau(e, 10, 60)).isCloseTo(0.9945, within(1e-12));
        // 25 after: end - 0.009 * (1 + cos(pi/4)) / 2
        assertThat(Schedules.tau(e, 10, 35)).isCloseTo(0.999 - 0.009 * 0.8535533905932737, within(1e-12));
        assertThat(Schedules.tau(e, 10, 110)).isCloseTo(0.999, within(1e-12));
    }

    @Test
    void tauOfOneFreezesTheTeacher() {
        EmaConfig e = new EmaConfig(0.999, 1.0, 10, EmaSchedule.LINEAR, false);
        assertThat(Schedules.emaFrozen(Schedules.tau(e, 0, 5))).isFalse();
        assertThat(Schedules.emaFrozen(Schedules.tau(e, 0, 10))).isTrue();
    }
}
