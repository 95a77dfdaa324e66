package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Scaled dot-product attention, the one place it is computed: DJL has no fused attention op, so this is matMul and
 * softmax, and a faster kernel can replace this method alone.
 */
public final class Attention {

    /** Added to the scores of excluded keys; finite, so a row with every key excluded gives a uniform mix, not NaN. */
    static final float EXCLUDED = -1e9f;

    private Attention() {}

    /**
     * softmax(q k^T / sqrt(hd) + bias, masking excluded keys) v, the softmax in fp32.
     *
     * @param q        (N, H, Tq, hd)
     * @param k        (N, H, Tk, hd)
     * @param v        (N, H, Tk, hd)
     * @param bias     additive scores bias broadcastable to (N, H, Tq, Tk) (ALiBi), or null
     * @param keyValid (N, 1, 1, Tk) boolean, true = the key may be attended to (padding masks), or null
     * @return (N, H, Tq, hd)
     */
    public static NDArray scaledDotProduct(NDArray q, NDArray k, NDArray v, NDArray bias, NDArray keyValid) {
        long hd = q.getShape().get(3);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(hd));
        DataType type = scores.getDataType();
        if (type != DataType.FLOAT32) {
            scores = scores.toType(DataType.FLOAT32, false);
        }
        if (bias != null) {
            scores = scores.add(bias);
        }
        if (keyValid != null) {
            // additive, so that it broadcasts over heads and queries: 0 where valid, EXCLUDED where not
            scores = scores.add(keyValid.toType(DataType.FLOAT32, false).sub(1f).mul(-EXCLUDED));
        }
        NDArray weights = scores.softmax(-1);
        if (type != DataType.FLOAT32) {
            weights = weights.toType(type, false);
        }
        return weights.matMul(v);
    }
}
