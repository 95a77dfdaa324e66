package dev.d2v.train.loop;

import dev.d2v.train.stream.TrainedStep;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Fits the LR and tau schedules of a run bound by wall time to the steps that budget will hold. A cosine schedule
 * only anneals if it ends when the run does: one set in steps ends too early on a fast machine (the rest of the
 * budget trains at the floor rate) and too late on a slow one (the run stops at a high rate). So after
 * {@code calibrationSteps} steps of a new run, the step rate measured since the end of its second step (the first
 * ones pay for allocation and warm-up) projects the steps left in the budget, and the trainer's schedules are
 * stretched to that length ({@link dev.d2v.train.step.Trainer#reschedule}). The fit happens once, before the first
 * checkpoint, which then carries it: a resumed run keeps the schedules it started with.
 */
public final class ScheduleFit implements LoopListener {

    private static final int SKIPPED = 2;

    private final Duration budget;
    private final int calibrationSteps;
    private final LongSupplier clock;
    private long startNs;
    private long markNs;
    private int seen;
    private long fitted = -1;

    /** @param budget the run's wall time, from its first step on */
    public ScheduleFit(Duration budget, int calibrationSteps) {
        this(budget, calibrationSteps, System::nanoTime);
    }

    ScheduleFit(Duration budget, int calibrationSteps, LongSupplier clock) {
        if (budget == null || budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("a schedule is fitted to a positive time budget, got " + budget);
        }
        if (calibrationSteps <= SKIPPED) {
            throw new IllegalArgumentException("calibration needs more than " + SKIPPED + " steps, got " + calibrationSteps);
        }
        this.budget = budget;
        this.calibrationSteps = calibrationSteps;
        this.clock = clock;
    }

    @Override
    public void started(TrainingLoop loop) {
        startNs = clock.getAsLong();
    }

    @Override
    public void stepped(TrainedStep s, TrainingLoop loop) {
        seen++;
        if (seen == SKIPPED) {
            markNs = clock.getAsLong();
        }
        if (seen != calibrationSteps) {
            return;
        }
        long now = clock.getAsLong();
        double secondsPerStep = (now - markNs) / 1e9 / (calibrationSteps - SKIPPED);
        double left = Math.max(0, budget.toNanos() - (now - startNs)) / 1e9;
        long done = loop.trainer().stepsDone();
        fitted = Math.max(done + 1, done + Math.round(left / secondsPerStep));
        loop.trainer().reschedule(fitted);
        loop.log(String.format(Locale.ROOT, "schedules fitted to the %s budget: %d steps (%.2f s per step over steps %d-%d)",
                minutes(budget), fitted, secondsPerStep, SKIPPED + 1, calibrationSteps));
    }

    /** The fitted schedule length; -1 before the fit. */
    public long fitted() {
        return fitted;
    }

    private static String minutes(Duration d) {
        return String.format(Locale.ROOT, "%.3g-minute", d.toMillis() / 60_000.0);
    }
}
