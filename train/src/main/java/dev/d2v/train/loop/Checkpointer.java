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
 * The target step itself is left to the end-of-run checkpoint. Before each write, retention makes room
 * ({@link CheckpointStore#pruneBeforeWrite}: K checkpoints of space for keepLast K, not K + 1), after it, it prunes and
 * {@code written} hears of it (the d2v.checkpoints event).
 *
 * <p>A periodic checkpoint that cannot be written (a full disk, a lost mount) is reported and training goes on: the
 * partial folder is removed, the earlier checkpoints are intact, and the next checkpoint tries again. The end-of-run
 * checkpoint is not optional: its failure ends the run with the error.
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
    private long failed;
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
            tryWrite(loop);
        }
    }

    @Override
    public void ended(TrainingLoop loop) throws IOException {
        if (loop.trainer().stepsDone() != lastStep) {
            try {
                write(loop);
            } catch (IOException e) {
                throw new IOException("the end-of-run checkpoint at step " + loop.trainer().stepsDone() + " could not be"
                        + " written under " + root + ": " + e.getMessage() + "; the newest earlier checkpoint is intact"
                        + " and a restart resumes from it", e);
            }
        }
    }

    /** Periodic checkpoints that could not be written (this run). */
    public long failed() {
        return failed;
    }

    /** A periodic checkpoint: a failure is reported, not fatal. */
    private void tryWrite(TrainingLoop loop) {
        try {
            write(loop);
        } catch (IOException e) {
            failed++;
            lastNs = System.nanoTime();   // the interval restarts: no retry on every step of a full disk
            loop.log("checkpoint at step " + loop.trainer().stepsDone() + " could NOT be written under " + root + ": "
                    + e.getMessage() + " (" + e.getClass().getSimpleName() + "); the earlier checkpoints are intact,"
                    + " training goes on and the next checkpoint tries again");
        }
    }

    private void write(TrainingLoop loop) throws IOException {
        CheckpointStore.pruneBeforeWrite(root, retention, loop.trainer().stepsDone());
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
