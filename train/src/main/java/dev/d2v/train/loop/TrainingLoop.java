package dev.d2v.train.loop;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.step.BadBatchException;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.Trainer;
import dev.d2v.train.stream.BatchSource;
import dev.d2v.train.stream.Fetched;
import dev.d2v.train.stream.RoundRobin;
import dev.d2v.train.stream.TrainedStep;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The one training loop, offline and continuous alike: take the next batch in weighted round-robin order, one
 * trainer step, advance the consumed position, tell the listeners; until the target step, the time budget, the idle
 * time without data, the stop flag or a listener's {@link #stop}. Checkpoints, metrics, the collapse guard and the
 * rollback are listeners ({@link Checkpointer}, {@link Rollback}, {@link CollapseGuardStop}).
 *
 * <p>A batch the model cannot take (the step's {@link dev.d2v.train.step.BatchTensors#check}: shape, dtype, token
 * range, non-finite values, duplicate ids) goes to the dead letters with its offset consumed, as does one whose step
 * throws, up to {@value #MAX_FAILED_STEPS_IN_A_ROW} in a row; a restart never meets it again.
 *
 * <p>The consumed position ("topic:partition" -> next offset, see {@link #position}) counts a record once it was
 * trained or dead-lettered, never when it was merely prefetched, so a checkpoint taken from it resumes exactly.
 */
public final class TrainingLoop {

    /**
     * Steps that may fail in a row, each dead-lettering its batch, before the run stops: one batch that makes a step
     * throw is that batch's problem; a fourth in a row is the trainer's or the machine's, and must not be hidden.
     */
    public static final int MAX_FAILED_STEPS_IN_A_ROW = 3;
    /** Dead-letter stage prefix of the loop's refusals: {@code train.<modality>.<reason>}. */
    static final String STAGE_PREFIX = "train.";
    /** Reason of a batch whose training step threw. */
    public static final String STEP_FAILED = "step-failed";

    /** How the loop ended, and what it did. */
    public record Outcome(long stepsThisRun, String reason, long deadLetters, double dataWaitFraction,
                          double samplesPerSecond) {}

    private final Trainer trainer;
    private final BatchSource source;
    private final LoopSettings settings;
    private final List<LoopListener> listeners;
    private final Consumer<String> log;
    private final Map<String, Long> consumed;
    private String stopReason;

    /**
     * @param offsets   where the source started: the resumed checkpoint's offsets (empty for a fresh start)
     * @param listeners in the order they run after each step
     * @param log       one-line messages (dead letters, guard warnings, checkpoints)
     */
    public TrainingLoop(Trainer trainer, BatchSource source, Map<String, Long> offsets, LoopSettings settings,
                        List<LoopListener> listeners, Consumer<String> log) {
        this.trainer = trainer;
        this.source = source;
        this.settings = settings;
        this.listeners = List.copyOf(listeners);
        this.log = log;
        this.consumed = new TreeMap<>(offsets);
    }

    public Trainer trainer() {
        return trainer;
    }

    public LoopSettings settings() {
        return settings;
    }

    /** Where reading resumes after what was trained or dead-lettered so far (the source decides the form). */
    public CheckpointManifest.DataPosition position() {
        return source.position(consumed);
    }

    /** Ends the run after the current step's listeners, with this reason (the first stop wins). */
    public void stop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
    }

    public void log(String message) {
        log.accept(message);
    }

    /** Runs until a stop condition; {@code stop} is polled before each step (the shutdown hook's flag). */
    public Outcome run(BooleanSupplier stop) throws IOException, InterruptedException {
        for (LoopListener l : listeners) {
            l.started(this);
        }
        RoundRobin turns = new RoundRobin(settings.weights());
        Set<Modality> dry = EnumSet.noneOf(Modality.class);
        Rate rate = new Rate(20);
        long first = trainer.stepsDone();
        long startNs = System.nanoTime();
        long lastDataNs = startNs;
        long waitNs = 0;
        long deadLetters = 0;
        int failedInARow = 0;
        while (stopReason == null && (stopReason = stopCondition(stop, startNs)) == null) {
            long w0 = System.nanoTime();
            Fetched f = take(source, turns.turnOrder(trainer.stepsDone()), settings.maxWait(), dry);
            long waited = System.nanoTime() - w0;
            waitNs += waited;
            if (f == null) {
                if (settings.idleStop() != null && System.nanoTime() - lastDataNs >= settings.idleStop().toNanos()) {
                    stop("no data for " + settings.idleStop().toSeconds() + " s");
                }
                continue;
            }
            lastDataNs = System.nanoTime();
            StepResult r = null;
            DeadLetter refused = f.failure();
            if (refused == null) {
                try {
                    r = trainer.step(f.batch());
                    failedInARow = 0;
                } catch (BadBatchException e) {   // refused by the step's checks, before the model was touched
                    refused = f.reject(e.stage(f.modality()), e);
                } catch (RuntimeException e) {   // a failure of this step on this batch: the batch's, within a budget
                    failedInARow++;
                    if (failedInARow > MAX_FAILED_STEPS_IN_A_ROW) {
                        throw new IllegalStateException(failedInARow + " training steps in a row failed, each on another"
                                + " batch: this is not a bad batch but a fault of the trainer or the machine. The last: "
                                + e.getMessage(), e);
                    }
                    refused = f.reject(STAGE_PREFIX + f.modality().id() + "." + STEP_FAILED, e);
                }
            }
            consumed.put(f.offsetKey(), f.offset() + 1);
            if (refused != null) {
                deadLetters++;
                DeadLetter d = refused;
                log.accept("dead-lettered " + f.offsetKey() + "@" + f.offset() + " (" + d.stage() + "): " + d.errorMessage());
                listeners.forEach(l -> l.deadLettered(d));
                continue;
            }
            long now = System.nanoTime();
            rate.add(now, r.samples());
            long created = f.batch().createdAtMs();
            TrainedStep s = new TrainedStep(r, f, waited / 1e6, waitNs / (double) Math.max(1, now - startNs),
                    source.lag(r.modality(), consumed), created > 0 ? System.currentTimeMillis() - created : -1,
                    rate.perSecond());
            for (LoopListener l : listeners) {
                l.stepped(s, this);
            }
        }
        for (LoopListener l : listeners) {
            l.ended(this);
        }
        double elapsed = Math.max(1, System.nanoTime() - startNs);
        return new Outcome(trainer.stepsDone() - first, stopReason, deadLetters, waitNs / elapsed, rate.overall(startNs));
    }

    /** The reason to stop before the next step, or null to go on. */
    private String stopCondition(BooleanSupplier stop, long startNs) {
        if (trainer.stepsDone() >= settings.targetStep()) {
            return "reached step " + settings.targetStep();
        }
        if (stop.getAsBoolean()) {
            return "stopped";
        }
        Duration budget = settings.timeBudget();
        if (budget != null && System.nanoTime() - startNs >= budget.toNanos()) {
            return "time budget of " + budget.toMinutes() + " min used";
        }
        return null;
    }

    /**
     * The first record of the modalities in turn order. A modality's turn waits at most maxWait; one that came up
     * empty on its last turn ("dry") is only looked at without waiting until it has data again, so an idle topic
     * costs its wait once, not every cycle. When every modality is dry, the turn's modality is waited on.
     */
    public static Fetched take(BatchSource source, List<Modality> order, Duration maxWait, Set<Modality> dry)
            throws InterruptedException {
        boolean waited = false;
        for (Modality m : order) {
            boolean wasDry = dry.contains(m);
            Fetched f = source.poll(m, wasDry ? Duration.ZERO : maxWait);
            waited |= !wasDry;
            if (f != null) {
                dry.remove(m);
                return f;
            }
            dry.add(m);
        }
        if (!waited) {
            Fetched f = source.poll(order.get(0), maxWait);
            if (f != null) {
                dry.remove(order.get(0));
            }
            return f;
        }
        return null;
    }

    /** Samples per second of wall time over the last n steps. */
    private static final class Rate {
        private final int n;
        private final ArrayDeque<long[]> window = new ArrayDeque<>();
        private long total;

        Rate(int n) {
            this.n = n;
        }

        void add(long nanos, int samples) {
            window.addLast(new long[] {nanos, samples});
            total += samples;
            if (window.size() > n) {
                window.removeFirst();
            }
        }

        double perSecond() {
            if (window.size() < 2) {
                return 0;
            }
            long samples = window.stream().skip(1).mapToLong(a -> a[1]).sum();
            return samples * 1e9 / Math.max(1, window.getLast()[0] - window.getFirst()[0]);
        }

        double overall(long startNs) {
            return window.isEmpty() ? 0 : total * 1e9 / Math.max(1, window.getLast()[0] - startNs);
        }
    }
}
