package dev.d2v.train.loop;

import dev.d2v.train.guard.CollapseGuard;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.stream.TrainedStep;

/**
 * The collapse guard on every step, with the bounds of the trainer's config: a warning is logged, a STOP verdict
 * (config {@code collapse_guard.stop: true}) ends the run after this step, with its end-of-run checkpoint.
 */
public final class CollapseGuardStop implements LoopListener {

    /** The reason a run stopped by the guard ends with. */
    public static final String REASON = "collapse guard";

    @Override
    public void stepped(TrainedStep s, TrainingLoop loop) {
        StepResult r = s.result();
        CollapseGuard.Verdict v = CollapseGuard.check(loop.trainer().config().collapseGuard(), r.step(), r.targetStd(),
                r.predictionStd());
        if (v.action() != CollapseGuard.Action.OK) {
            loop.log("collapse guard at step " + r.step() + ": " + v.message());
            if (v.action() == CollapseGuard.Action.STOP) {
                loop.stop(REASON);
            }
        }
    }
}
