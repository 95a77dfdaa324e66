package dev.d2v.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.StepStrategy;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import dev.d2v.train.stream.BatchSource;
import dev.d2v.train.stream.Fetched;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** A batch the model cannot take, or whose step throws, is dead-lettered with its offset consumed; the run goes on. */
class BadBatchLoopTest {

    private static final Data2VecConfig IMAGES = TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE));

    /** One partition of batches, offset o holding batch(o). */
    private record Source(LongFunction<Minibatch> batch, long[] next) implements BatchSource {
        Source(LongFunction<Minibatch> batch) {
            this(batch, new long[1]);
        }

        @Override
        public Fetched poll(Modality m, Duration wait) {
            long o = next[0]++;
            return new Fetched(m, "d2v.batch.image", 0, o, batch.apply(o), null);
        }

        @Override
        public long lag(Modality m, Map<String, Long> trained) {
            return -1;
        }

        @Override
        public void close() {}
    }

    /** A good 8x8 batch at every offset but 2 (1x12x12, the wrong size) and 4 (a sample id twice). */
    private static Minibatch withPoison(long o) {
        if (o == 2) {
            return SyntheticBatches.image(4, 1, 12, o);
        }
        if (o == 4) {
            Minibatch ok = SyntheticBatches.image(2, 1, 8, o);
            return Minibatch.builder(Modality.IMAGE, 2, 1, 8, 8).sampleIds("dup", "dup").uint8(ok.payload());
        }
        return SyntheticBatches.image(4, 1, 8, o);
    }

    private static TrainingLoop loop(Trainer t, BatchSource source, long target, List<DeadLetter> dead,
                                     List<String> trained) {
        LoopListener record = new LoopListener() {
            @Override
            public void stepped(dev.d2v.train.stream.TrainedStep s, TrainingLoop loop) {
                trained.addAll(s.source().batch().sampleIds());
            }

            @Override
            public void deadLettered(DeadLetter d) {
                dead.add(d);
            }
        };
        return new TrainingLoop(t, source, Map.of(), new LoopSettings(Map.of(Modality.IMAGE, 1), Duration.ZERO, target,
                null, null), List.of(record), m -> {});
    }

    @Test
    void aBatchOfTheWrongShapeOrWithASampleTwiceIsDeadLetteredAndTrainingGoesOn() throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        List<String> trained = new ArrayList<>();
        try (Trainer t = new Trainer(IMAGES, Device.cpu(), 1)) {
            TrainingLoop loop = loop(t, new Source(BadBatchLoopTest::withPoison), 5, dead, trained);
            TrainingLoop.Outcome o = loop.run(() -> false);

            assertThat(o.stepsThisRun()).isEqualTo(5);
            assertThat(o.deadLetters()).isEqualTo(2);
            assertThat(dead).extracting(DeadLetter::offset).containsExactly(2L, 4L);
            assertThat(dead).extracting(DeadLetter::stage).containsExactly("train.image.shape",
                    "train.image.duplicate-ids");
            assertThat(dead.get(0).errorMessage()).contains("1x12x12").contains("1x8x8");
            // offsets 0..6 are consumed: a checkpoint now resumes after both, never meeting them again
            assertThat(loop.position().offsets()).containsEntry("d2v.batch.image:0", 7L);
            assertThat(trained).hasSize(5 * 4).doesNotContain("dup");
        }
    }

    /** The data2vec step, failing its first `failures` steps (a fault inside the step, after the batch checks). */
    private static StepStrategy failing(AtomicInteger failures) {
        return new StepStrategy() {
            @Override
            public Data2VecModel.TeacherOut targets(Data2VecModel model, Params teacher, Modality m, BatchTensors in,
                                                    int clones) {
                if (failures.getAndDecrement() > 0) {
                    throw new IllegalStateException("simulated failure of the step");
                }
                return StepStrategy.super.targets(model, teacher, m, in, clones);
            }
        };
    }

    @Test
    void aStepThatThrowsDeadLettersItsBatchWithinTheBudget() throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        List<String> trained = new ArrayList<>();
        try (Trainer t = new Trainer(IMAGES, Device.cpu(), 1, failing(new AtomicInteger(TrainingLoop.MAX_FAILED_STEPS_IN_A_ROW)))) {
            TrainingLoop loop = loop(t, new Source(o -> SyntheticBatches.image(4, 1, 8, o)), 2, dead, trained);
            TrainingLoop.Outcome o = loop.run(() -> false);
            assertThat(o.stepsThisRun()).isEqualTo(2);
            assertThat(dead).extracting(DeadLetter::offset).containsExactly(0L, 1L, 2L);
            assertThat(dead).extracting(DeadLetter::stage).containsOnly("train.image.step-failed");
            assertThat(dead.get(0).errorMessage()).contains("simulated failure");
            assertThat(loop.position().offsets()).containsEntry("d2v.batch.image:0", 5L);
        }
    }

    @Test
    void oneFailedStepMoreThanTheBudgetStopsTheRunWithAClearMessage() throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        try (Trainer t = new Trainer(IMAGES, Device.cpu(), 1, failing(new AtomicInteger(100)))) {
            TrainingLoop loop = loop(t, new Source(o -> SyntheticBatches.image(4, 1, 8, o)), 10, dead, new ArrayList<>());
            assertThatThrownBy(() -> loop.run(() -> false)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining((TrainingLoop.MAX_FAILED_STEPS_IN_A_ROW + 1) + " training steps in a row failed")
                    .hasMessageContaining("simulated failure");
            assertThat(dead).hasSize(TrainingLoop.MAX_FAILED_STEPS_IN_A_ROW);
            // the batch of the last failure is not consumed: a restart tries it again
            assertThat(loop.position().offsets()).containsEntry("d2v.batch.image:0", (long) TrainingLoop.MAX_FAILED_STEPS_IN_A_ROW);
            assertThat(t.stepsDone()).isZero();
        }
    }
}
