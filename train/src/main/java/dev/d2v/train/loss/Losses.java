package dev.d2v.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;

/**
 * The data2vec 2.0 losses (Baevski et al. 2022). Results land in the prediction's manager: call inside the
 * step's scope.
 */
public final class Losses {

    private Losses() {}

    /**
     * Masked regression loss, a scalar:
     * sum over (r, t) with lossMask of scale * sum_d lossFn(pred - target) / (number of such tokens).
     *
     * @param pred     (N, T, D) decoder output
     * @param target   (N, T, D) teacher targets (already repeated over the M clones)
     * @param lossMask (N, T) 1 where the token is masked and valid, 0 elsewhere (any numeric type)
     * @param beta     0: squared error; > 0: Smooth L1 with this beta
     * @param scale    per-token multiplier, normally 1/sqrt(D)
     */
    public static NDArray maskedRegression(NDArray pred, NDArray target, NDArray lossMask, double beta, double scale) {
        if (!pred.getShape().equals(target.getShape())) {
            throw new IllegalArgumentException("prediction " + pred.getShape() + " and target " + target.getShape() + " differ");
        }
        NDArray perElement = elementLoss(pred.sub(target), beta);       // (N, T, D)
        NDArray perToken = perElement.sum(new int[] {2}).muli(scale);   // (N, T)
        NDArray keep = lossMask.toType(DataType.BOOLEAN, false);
        // where, not multiply: a NaN or inf at an unmasked slot must not reach the sum
        NDArray zeros = perToken.zerosLike();
        NDArray counted = NDArrays.where(keep, perToken, zeros);
        double count = Math.max(1, keep.sum().toType(DataType.FLOAT64, false).getDouble());
        return counted.sum().divi(count);
    }

    /** Elementwise: d^2 when beta == 0; Smooth L1 0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere. */
    public static NDArray elementLoss(NDArray diff, double beta) {
        if (beta == 0) {
            return diff.square();
        }
        NDArray abs = diff.abs();
        NDArray quadratic = diff.square().muli(0.5 / beta);
        NDArray linear = abs.sub(beta / 2);
        return NDArrays.where(abs.lt(beta), quadratic, linear);
    }

    /**
     * The pooled loss, a scalar: weight * scale * mean over rows of ||pooled[r] - target[r / M]||^2.
     *
     * @param pooled (B * M, D) the student's pooled head on each clone
     * @param target (B, D) the teacher's pooled last block, standardised over the batch
     * @param clones M
     */
    public static NDArray pooledLoss(NDArray pooled, NDArray target, int clones, double weight, double scale) {
        return perSampleRegression(pooled, target, clones, weight, scale, "pooled output", "targets");
    }

    /**
     * Image CLS loss, a scalar: weight * scale * mean over rows of ||cls[r] - mean_t y[r / M, t]||^2.
     *
     * @param cls     (B * M, D) student output at the CLS slot
     * @param targets (B, T, D) teacher targets before the clone repeat
     * @param clones  M
     */
    public static NDArray clsLoss(NDArray cls, NDArray targets, int clones, double weight, double scale) {
        NDArray meanTarget = targets.mean(new int[] {1});                     // (B, D)
        return perSampleRegression(cls, meanTarget, clones, weight, scale, "CLS output", "mean targets");
    }

    /**
     * weight * scale * mean over rows r of ||rows[r] - perSample[r / M]||^2: one vector per clone row against its
     * sample's, repeated over the M clones.
     *
     * @param rows      (B * M, D)
     * @param perSample (B, D)
     */
    private static NDArray perSampleRegression(NDArray rows, NDArray perSample, int clones, double weight, double scale,
                                               String rowsName, String targetName) {
        NDArray repeated = perSample.repeat(0, clones);                         // (B * M, D)
        if (!repeated.getShape().equals(rows.getShape())) {
            throw new IllegalArgumentException(rowsName + " " + rows.getShape() + " does not match " + targetName + " "
                    + repeated.getShape());
        }
        return rows.sub(repeated).square().sum(new int[] {1}).mean().muli(weight * scale);
    }
}
