package dev.d2v.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The schedules of a time-bound run, fitted from the pace of its first steps, on a clock the test moves. */
class ScheduleFitTest {

    @Test
    void theScheduleEndsWhereTheBudgetDoes() throws Exception {
        Data2VecConfig provisional = TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE)).forSteps(300);
        AtomicLong clock = new AtomicLong();
        long secondsPerStep = 2;
        List<StepResult> steps = new ArrayList<>();
        List<String> log = new ArrayList<>();
        ScheduleFit fit = new ScheduleFit(Duration.ofSeconds(100), 5, clock::get);
        try (Trainer trainer = new Trainer(provisional, Device.cpu(), 7)) {
            LoopListener tick = LoopListener.of(s -> {
                clock.addAndGet(secondsPerStep * 1_000_000_000L);   // every step takes 2 s on this clock
                steps.add(s.result());
            });
            new TrainingLoop(trainer, new EndlessImages(), Map.of(),
                    new LoopSettings(Map.of(Modality.IMAGE, 1), Duration.ZERO, 8, null, null),
                    List.of(tick, fit), log::add).run(() -> false);

            // steps 3-5 took 6 s, i.e. 2 s each; 100 - 10 s are left after step 5: 45 more steps, 50 in all
            assertThat(fit.fitted()).isEqualTo(50);
            Data2VecConfig fitted = trainer.config();
            assertThat(fitted).isEqualTo(provisional.forSteps(50));
            assertThat(fitted.optim().totalSteps()).isEqualTo(50);
            assertThat(fitted.optim().warmupSteps()).isEqualTo(Math.round(provisional.optim().warmupSteps() * 50 / 300.0));
            for (StepResult r : steps) {
                Data2VecConfig in = r.step() < 5 ? provisional : fitted;
                assertThat(r.lr()).as("lr at step %d", r.step())
                        .isCloseTo(Schedules.learningRate(in.optim(), r.step()), within(1e-12));
            }
            assertThat(log).anyMatch(l -> l.startsWith("schedules fitted to the 1.67-minute budget: 50 steps"));
        }
    }

    @Test
    void aBudgetOrACalibrationThatCannotFitIsRefused() {
        assertThatThrownBy(() -> new ScheduleFit(Duration.ZERO, 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScheduleFit(Duration.ofMinutes(1), 2)).isInstanceOf(IllegalArgumentException.class);
    }
}
