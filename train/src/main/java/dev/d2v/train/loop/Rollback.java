package dev.d2v.train.loop;

import ai.djl.ndarray.NDManager;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.Trainer;
import dev.d2v.train.stream.TrainedStep;
import java.io.IOException;
import java.util.Optional;

/**
 * A non-finite loss skips its update (the trainer counts it); {@code after} of them in a row mean the state itself
 * has diverged, so the newest checkpoint's model, teacher, optimizer and counters come back. The data position keeps
 * moving forward: the batches that diverged would diverge again. Runs before the {@link Checkpointer}, which it tells.
 */
public final class Rollback implements LoopListener {

    private final int after;
    private final Checkpointer checkpoints;
    private int inRow;
    private long count;

    public Rollback(int after, Checkpointer checkpoints) {
        if (after < 1) {
            throw new IllegalArgumentException("rollbackAfter must be >= 1, got " + after);
        }
        this.after = after;
        this.checkpoints = checkpoints;
    }

    /** Rollbacks done in this run. */
    public long count() {
        return count;
    }

    @Override
    public void stepped(TrainedStep s, TrainingLoop loop) throws IOException {
        inRow = s.result().applied() ? 0 : inRow + 1;
        if (inRow < after) {
            return;
        }
        inRow = 0;
        Trainer t = loop.trainer();
        long from = t.stepsDone();
        Optional<CheckpointManifest.DataPosition> restored;
        try (NDManager scratch = NDManager.newBaseManager(t.device())) {
            restored = TrainerCheckpoints.resumeNewest(t, checkpoints.root(), scratch, loop::log);
        }
        if (restored.isEmpty()) {
            loop.log("non-finite losses in a row at step " + from + " and no checkpoint to roll back to: continuing");
            return;
        }
        count++;
        checkpoints.rolledBackTo(t.stepsDone());
        loop.log("non-finite losses in a row at step " + from + ": rolled back to step " + t.stepsDone()
                + "; the data position moves on");
    }
}
