package dev.d2v.train.loop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.stream.TrainedStep;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Checkpoints the trainer with the loop's data position: at every step that is a multiple of {@code everySteps}
 * (so that "keep every Nth" retention finds them after a resume from an odd step), after {@code interval} of wall
 * time since the last one, and once more when the run ends normally, if anything was trained since the last one.
 * The target step itself is left to the end-of-run checkpoint. After each write, retention prunes and
 * {@code written} hears of it (the d2v.checkpoints event).
 */
public final class Checkpointer implements LoopListener {

    private final Path root;
    private final JsonNode runInfo;
    private final long everySteps;
    private final Duration interval;
    private final RetentionPolicy retention;
    private final Consumer<CheckpointStore.Verified> written;
    private long lastStep;
    private long lastNs;
    private long count;
    private CheckpointStore.Verified last;

    /**
     * @param runInfo    the run's settings stored in each checkpoint's config (data, topics, transforms)
     * @param everySteps 0: not by steps
     * @param interval   null: not by time
     */
    public Checkpointer(Path root, JsonNode runInfo, long everySteps, Duration interval, RetentionPolicy retention,
                        Consumer<CheckpointStore.Verified> written) {
        if (everySteps < 0) {
            throw new IllegalArgumentException("checkpointEvery must be >= 0 (0 = by time only), got " + everySteps);
        }
        this.root = root;
        this.runInfo = runInfo;
        this.everySteps = everySteps;
        this.interval = interval;
        this.retention = retention;
        this.written = written;
    }

    public Path root() {
        return root;
    }

    /** The newest checkpoint this run wrote; null when none. */
    public CheckpointStore.Verified last() {
        return last;
    }

    /** Checkpoints this run wrote. */
    public long count() {
        return count;
    }

    /** The trainer was set back to the checkpoint of this step: nothing after it is unsaved. */
    public void rolledBackTo(long step) {
        lastStep = step;
    }

    @Override
    public void started(TrainingLoop loop) {
        lastStep = loop.trainer().stepsDone();
        lastNs = System.nanoTime();
    }

    @Override
    public void stepped(TrainedStep s, TrainingLoop loop) throws IOException {
        long step = loop.trainer().stepsDone();
        boolean bySteps = everySteps > 0 && step % everySteps == 0;
        boolean byTime = interval != null && System.nanoTime() - lastNs >= interval.toNanos();
        if ((bySteps || byTime) && step != lastStep && step < loop.settings().targetStep()) {
            write(loop);
        }
    }

    @Override
    public void ended(TrainingLoop loop) throws IOException {
        if (loop.trainer().stepsDone() != lastStep) {
            write(loop);
        }
    }

    private void write(TrainingLoop loop) throws IOException {
        CheckpointStore.Verified v = TrainerCheckpoints.save(loop.trainer(), root, runInfo, loop.position());
        CheckpointStore.prune(root, retention);
        last = v;
        count++;
        lastStep = v.manifest().step();
        lastNs = System.nanoTime();
        loop.log("checkpoint " + v.folder() + " (step " + lastStep + ")");
        written.accept(v);
    }
}
