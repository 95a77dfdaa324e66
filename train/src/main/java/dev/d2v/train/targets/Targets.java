package dev.d2v.train.targets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.d2v.train.config.FinalNorm;
import dev.d2v.train.config.TargetConfig;
import java.util.List;

/**
 * Teacher targets (data2vec 2.0, Baevski et al. 2022): y = FinalNorm(mean_l InstanceNorm_time(f_l)) over the top-K FFN
 * outputs f_l of the teacher's main blocks, optionally centred per position over the batch before the final norm. Results land in the first layer's manager: call inside the step's scope.
 *
 * <p>Better than the reference on padded batches: the instance norm's mean and variance run over the valid time steps
 * only (the reference normalises over the padding too).
 */
public final class Targets {

    /** torch.nn.functional.instance_norm and layer_norm default. */
    public static final float EPS = 1e-5f;

    private Targets() {}

    /**
     * @param topK  K tensors (B, T, D), fp32: the FFN outputs of the last K main blocks, in block order
     * @param valid (B, T, 1) 1.0 at real tokens, 0.0 at padding; null when nothing is padded
     * @return (B, T, D) targets; padded positions hold finite values that the loss mask ignores
     */
    public static NDArray build(List<NDArray> topK, NDArray valid, TargetConfig c) {
        if (topK.isEmpty()) {
            throw new IllegalArgumentException("targets need at least one teacher layer");
        }
        NDArray sum = null;
        for (NDArray f : topK) {
            NDArray layer = c.instanceNorm() ? instanceNorm(f.toType(DataType.FLOAT32, false), valid) : f.toType(DataType.FLOAT32, false);
            sum = sum == null ? layer.duplicate() : sum.addi(layer); // never add into a teacher activation
        }
        NDArray y = sum.divi(topK.size());
        if (c.centerPositions()) {
            y = centerPositions(y, valid);
        }
        return c.finalNorm() == FinalNorm.LAYER_NORM ? layerNorm(y) : y;
    }

    /**
     * Per example and channel, over time: (x - mean_t) / sqrt(var_t + eps), biased variance.
     *
     * @param x     (B, T, D)
     * @param valid (B, T, 1) weights 1/0, or null for all steps
     */
    public static NDArray instanceNorm(NDArray x, NDArray valid) {
        if (valid == null) {
            NDArray mean = x.mean(new int[] {1}, true);                          // (B, 1, D)
            NDArray centred = x.sub(mean);
            NDArray var = centred.square().mean(new int[] {1}, true);
            return centred.divi(var.addi(EPS).sqrt());
        }
        NDArray count = valid.sum(new int[] {1}, true).maximum(1f);                // (B, 1, 1)
        NDArray mean = x.mul(valid).sum(new int[] {1}, true).divi(count);         // (B, 1, D)
        NDArray centred = x.sub(mean).muli(valid);                               // padding -> 0
        NDArray var = centred.square().sum(new int[] {1}, true).divi(count);
        return centred.divi(var.addi(EPS).sqrt());
    }

    /**
     * Per position and channel, over the batch: y - mean_b y[b, t] over the rows whose position t is real; padding
     * stays 0 where the instance norm zeroed it. A position that only one row has becomes 0 there (nothing to learn).
     *
     * @param y     (B, T, D)
     * @param valid (B, T, 1) weights 1/0, or null for all positions
     */
    public static NDArray centerPositions(NDArray y, NDArray valid) {
        if (valid == null) {
            return y.sub(y.mean(new int[] {0}, true));
        }
        NDArray count = valid.sum(new int[] {0}, true).maximum(1f);                // (1, T, 1)
        NDArray mean = y.mul(valid).sum(new int[] {0}, true).divi(count);          // (1, T, D)
        return y.sub(mean).muli(valid);
    }

    /**
     * Per channel over the rows: (y - mean_b y) / sqrt(var_b + eps), biased variance. A component that every row
     * shares becomes 0 and each channel's spread over the batch 1, so a constant prediction is never a good one.
     *
     * @param y (B, D)
     */
    public static NDArray standardiseOverBatch(NDArray y) {
        NDArray centred = y.sub(y.mean(new int[] {0}, true));
        NDArray var = centred.square().mean(new int[] {0}, true);
        return centred.divi(var.addi(EPS).sqrt());
    }

    /** LayerNorm over the channel axis without affine parameters: (B, T, D) -> (B, T, D). */
    public static NDArray layerNorm(NDArray y) {
        NDArray mean = y.mean(new int[] {2}, true);
        NDArray centred = y.sub(mean);
        NDArray var = centred.square().mean(new int[] {2}, true);
        return centred.divi(var.addi(EPS).sqrt());
    }
}
