package dev.d2v.train.guard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.d2v.train.config.CollapseGuardConfig;

/** Representation-collapse check (after fairseq data2vec's compute_var), pure apart from reading two scalars. */
public final class CollapseGuard {

    public enum Action { OK, WARN, STOP }

    /** The outcome of one check, with a message a user can act on when not OK. */
    public record Verdict(Action action, String message) {}

    private CollapseGuard() {}

    /**
     * The reference's compute_var: x (..., D) viewed as (R, D); per channel sqrt(var over R + 1e-6), averaged over D.
     * Low means every token maps to nearly the same vector.
     */
    public static double channelStd(NDArray x) {
        long d = x.getShape().get(x.getShape().dimension() - 1);
        try (NDArray flat = x.reshape(-1, d);
             NDArray mean = flat.mean(new int[] {0}, true);
             NDArray c = flat.sub(mean);
             NDArray sq = c.square();
             NDArray var = sq.sum(new int[] {0}).divi(Math.max(1, flat.getShape().get(0) - 1)); // unbiased, as torch.var
             NDArray std = var.addi(1e-6f).sqrt();
             NDArray m = std.mean()) {
            return m.getFloat();
        }
    }

    /**
     * channelStd over the rows where keep is true, as the reference computes it over the masked tokens only (padding
     * and visible slots would pull the spread down).
     *
     * @param x    (N, T, D)
     * @param keep (N, T) boolean or 0/1
     */
    public static double channelStd(NDArray x, NDArray keep) {
        long d = x.getShape().get(x.getShape().dimension() - 1);
        try (NDArray flat = x.reshape(-1, d);
             NDArray w = keep.toType(DataType.FLOAT32, false).reshape(-1, 1);   // (R, 1)
             NDArray n = w.sum()) {
            double count = n.getFloat();
            if (count < 2) {
                return 0;
            }
            try (NDArray mean = flat.mul(w).sum(new int[] {0}, true).divi((float) count);
                 NDArray c = flat.sub(mean).muli(w);
                 NDArray var = c.square().sum(new int[] {0}).divi((float) (count - 1));
                 NDArray std = var.addi(1e-6f).sqrt();
                 NDArray m = std.mean()) {
                return m.getFloat();
            }
        }
    }

    /**
     * The share of the targets' variance that position alone explains, over the real tokens of a batch:
     * 1 - sum ||y[b,t] - mean_b y[., t]||^2 / sum ||y[b,t] - mean y||^2, the per-position means taken over the rows that
     * have position t. A collapse that the spread does not show: targets that are a function of position are easy to
     * predict (the loss falls) and say nothing about the input. A random-init cpu-preset text teacher gives about 0.5;
     * 200 fast-EMA steps on WordNet raised it to 0.94 (train/TRAIN.md). An in-batch estimate: a position that only a
     * few rows reach is explained by its own mean, which biases it up by about (positions / tokens).
     *
     * @param y     (B, T, D) targets
     * @param valid (B, T) boolean or 0/1, or null when every position is real
     * @return the share in [0, 1]; 0 when the targets do not vary
     */
    public static double positionShare(NDArray y, NDArray valid) {
        Shape s = y.getShape();
        try (NDManager scope = y.getManager().newSubManager()) {
            NDArray w = valid == null ? scope.ones(new Shape(s.get(0), s.get(1), 1))
                    : valid.toType(DataType.FLOAT32, false).reshape(s.get(0), s.get(1), 1);
            w.attach(scope);
            NDArray x = y.toType(DataType.FLOAT32, false);
            x = x == y ? y.duplicate() : x;
            x.attach(scope);
            NDArray n = w.sum();
            NDArray grand = x.mul(w).sum(new int[] {0, 1}, true).divi(n.maximum(1f));             // (1, 1, D)
            NDArray total = x.sub(grand).muli(w).square().sum();
            NDArray perPosition = x.mul(w).sum(new int[] {0}, true).divi(w.sum(new int[] {0}, true).maximum(1f)); // (1, T, D)
            NDArray within = x.sub(perPosition).muli(w).square().sum();
            double t = total.getFloat();
            return t <= 0 ? 0 : Math.max(0, Math.min(1, 1 - within.getFloat() / t));
        }
    }

    /** Compares the two statistics with the bounds once step >= after_steps. */
    public static Verdict check(CollapseGuardConfig c, long step, double targetStd, double predictionStd) {
        if (step < c.afterSteps()) {
            return new Verdict(Action.OK, "");
        }
        String problem = null;
        if (targetStd < c.minTargetVar()) {
            problem = "target spread " + targetStd + " < " + c.minTargetVar();
        } else if (predictionStd < c.minPredictionVar()) {
            problem = "prediction spread " + predictionStd + " < " + c.minPredictionVar();
        }
        if (problem == null) {
            return new Verdict(Action.OK, "");
        }
        String message = "representation collapse at step " + step + ": " + problem
                + " (lower the LR, raise ema_momentum_start, or check the target norms)";
        return new Verdict(c.stop() ? Action.STOP : Action.WARN, message);
    }
}
