package dev.d2v.train.schedule;

import dev.d2v.train.config.EmaConfig;
import dev.d2v.train.config.EmaSchedule;
import dev.d2v.train.config.OptimConfig;

/** Learning rate and EMA momentum as pure functions of the optimizer step (0-based). */
public final class Schedules {

    private Schedules() {}

    /**
     * LR at step: lr * step / warmup during warmup, then floor + (lr - floor) * (1 + cos(pi * p)) / 2 with
     * p = (step - warmup) / (total - warmup) clamped to [0, 1]; floor = lr * min_lr_ratio; the floor after total.
     */
    public static double learningRate(OptimConfig o, long step) {
        if (step < o.warmupSteps()) {
            return o.lr() * step / o.warmupSteps();
        }
        double p = clamp01((double) (step - o.warmupSteps()) / (o.totalSteps() - o.warmupSteps()));
        double floor = o.lr() * o.minLrRatio();
        return floor + (o.lr() - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
    }

    /**
     * EMA momentum at step. Progress p = (step - offset) / anneal_steps clamped to [0, 1], offset = the LR warmup
     * when anneal_after_warmup (tau holds tauStart during warmup, so LR and tau move together), else 0.
     * linear: start + (end - start) * p; cosine: end - (end - start) * (1 + cos(pi * p)) / 2.
     */
    public static double tau(EmaConfig e, long warmupSteps, long step) {
        long offset = e.afterWarmup() ? warmupSteps : 0;
        double p = clamp01((double) (step - offset) / e.annealSteps());
        double span = e.tauEnd() - e.tauStart();
        return e.schedule() == EmaSchedule.LINEAR
                ? e.tauStart() + span * p
                : e.tauEnd() - span * 0.5 * (1 + Math.cos(Math.PI * p));
    }

    /** At tau == 1 the teacher is frozen: the EMA update is skipped altogether. */
    public static boolean emaFrozen(double tau) {
        return tau >= 1.0;
    }

    private static double clamp01(double x) {
        return Math.max(0, Math.min(1, x));
    }
}
