package dev.d2v.train.loop;

import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.train.stream.TrainedStep;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Something that hangs off the {@link TrainingLoop}: metrics, progress, checkpoints, the collapse guard, the
 * rollback. Listeners run in list order after every step; an exception out of one ends the run as a crash would
 * (no end-of-run call).
 */
public interface LoopListener {

    /** Before the first step (the trainer already resumed). */
    default void started(TrainingLoop loop) throws IOException {}

    /** After every trained step; {@link TrainingLoop#stop} ends the run after this step's listeners. */
    void stepped(TrainedStep s, TrainingLoop loop) throws IOException;

    /** A record that did not decode; its offset already counts as consumed. */
    default void deadLettered(DeadLetter d) {}

    /** The run ended normally (target, time budget, idle time, stop flag or a listener's stop). */
    default void ended(TrainingLoop loop) throws IOException {}

    /** A listener that only looks at each step. */
    static LoopListener of(Consumer<TrainedStep> c) {
        return (s, loop) -> c.accept(s);
    }

    /** A listener that only hears of dead letters. */
    static LoopListener ofDeadLetters(Consumer<DeadLetter> c) {
        return new LoopListener() {
            @Override
            public void stepped(TrainedStep s, TrainingLoop loop) {}

            @Override
            public void deadLettered(DeadLetter d) {
                c.accept(d);
            }
        };
    }
}
