package dev.d2v.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.guard.CollapseGuard;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The offline training loop: batches from a source, one trainer step each, until the step target, the time budget or
 * a stop request; checkpoints every N steps and at the end. Metrics, progress and the collapse guard hang off it as
 * listeners (STYLE 5).
 */
public final class PretrainLoop {

    /** Where batches come from, and where reading would resume after the last batch returned. */
    public interface Source {
        Minibatch next();

        CheckpointManifest.DataPosition position();
    }

    /**
     * @param targetStep    stop once the trainer has done this many steps in total (a resumed run continues to it)
     * @param time          wall-clock budget of this invocation; null for none
     * @param checkpointEvery steps between checkpoints (0: only at the end)
     * @param retention     which step folders to keep
     */
    public record Plan(long targetStep, Duration time, long checkpointEvery, RetentionPolicy retention) {}

    /** How the loop ended. */
    public record Outcome(long stepsThisRun, String reason, CheckpointStore.Verified lastCheckpoint) {}

    private PretrainLoop() {}

    /**
     * @param run    the run settings stored in each checkpoint's config (data, transforms)
     * @param stop   polled before each step (Ctrl-C)
     * @param log    one-line messages (guard warnings, checkpoints)
     */
    public static Outcome run(Trainer t, Source source, Plan plan, Path checkpoints, JsonNode run,
                              List<Consumer<StepResult>> listeners, BooleanSupplier stop, Consumer<String> log)
            throws IOException {
        long start = System.nanoTime();
        long first = t.step();
        String reason = "reached step " + plan.targetStep();
        CheckpointStore.Verified last = null;
        while (t.step() < plan.targetStep()) {
            if (stop.getAsBoolean()) {
                reason = "stopped";
                break;
            }
            if (plan.time() != null && System.nanoTime() - start >= plan.time().toNanos()) {
                reason = "time budget of " + plan.time().toMinutes() + " min used";
                break;
            }
            StepResult r = t.step(source.next());
            listeners.forEach(l -> l.accept(r));
            CollapseGuard.Verdict v = CollapseGuard.check(t.config().collapseGuard(), r.step(), r.targetStd(), r.predictionStd());
            if (v.action() != CollapseGuard.Action.OK) {
                log.accept("collapse guard at step " + r.step() + ": " + v.message());
                if (v.action() == CollapseGuard.Action.STOP) {
                    reason = "collapse guard";
                    break;
                }
            }
            if (plan.checkpointEvery() > 0 && t.step() % plan.checkpointEvery() == 0 && t.step() < plan.targetStep()) {
                last = checkpoint(t, source, checkpoints, run, plan, log);
            }
        }
        if (t.step() > first && (last == null || last.manifest().step() != t.step())) {
            last = checkpoint(t, source, checkpoints, run, plan, log);
        }
        return new Outcome(t.step() - first, reason, last);
    }

    private static CheckpointStore.Verified checkpoint(Trainer t, Source source, Path root, JsonNode run, Plan plan,
                                                       Consumer<String> log) throws IOException {
        CheckpointStore.Verified v = TrainerCheckpoints.save(t, root, run, source.position());
        CheckpointStore.prune(root, plan.retention());
        log.accept("checkpoint " + v.folder());
        return v;
    }
}
