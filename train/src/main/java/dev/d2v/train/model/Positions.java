package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Fixed positional tables and ALiBi slopes. */
public final class Positions {

    private Positions() {}

    /**
     * MAE's fixed 2-D sin-cos table for a rows x cols grid, row-major: (rows * cols, D). The first half of the channels
     * encodes the row, the second half the column; each half is [sin(p w_i) ; cos(p w_i)], w_i = 10000^(-i / (D/4)).
     */
    public static float[] sinCos2d(int d, int rows, int cols) {
        if (d % 4 != 0) {
            throw new IllegalArgumentException("2-D sin-cos positions need a width divisible by 4, got " + d);
        }
        float[] out = new float[rows * cols * d];
        int half = d / 2;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int base = (r * cols + c) * d;
                fill1d(out, base, half, r);
                fill1d(out, base + half, half, c);
            }
        }
        return out;
    }

    /** 1-D sin-cos table (T, D) for the transformer decoder on sequences. */
    public static float[] sinCos1d(int d, int t) {
        if (d % 2 != 0) {
            throw new IllegalArgumentException("sin-cos positions need an even width, got " + d);
        }
        float[] out = new float[t * d];
        for (int p = 0; p < t; p++) {
            fill1d(out, p * d, d, p);
        }
        return out;
    }

    private static void fill1d(float[] out, int base, int width, int pos) {
        int quarter = width / 2;
        for (int i = 0; i < quarter; i++) {
            double omega = Math.pow(10000, -(double) i / quarter);
            out[base + i] = (float) Math.sin(pos * omega);
            out[base + quarter + i] = (float) Math.cos(pos * omega);
        }
    }

    /** The table as an array (1, T, D) in manager. */
    public static NDArray table(NDManager manager, float[] values, int t, int d) {
        return manager.create(values, new Shape(1, t, d));
    }

    /**
     * ALiBi head slopes (Press et al.): for H a power of two, 2^(-8 (h + 1) / H); otherwise the slopes of the next
     * lower power of two followed by every other slope of the next higher one.
     */
    public static float[] alibiSlopes(int heads) {
        int pow2 = Integer.highestOneBit(heads);
        float[] out = new float[heads];
        float[] base = powerOfTwoSlopes(pow2);
        System.arraycopy(base, 0, out, 0, pow2);
        if (pow2 < heads) {
            float[] extra = powerOfTwoSlopes(2 * pow2);
            for (int i = 0; i < heads - pow2; i++) {
                out[pow2 + i] = extra[2 * i];
            }
        }
        return out;
    }

    private static float[] powerOfTwoSlopes(int n) {
        double start = Math.pow(2, -8.0 / n);
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (float) Math.pow(start, i + 1);
        }
        return s;
    }

    /**
     * ALiBi bias for tokens at the given original positions (so that distances survive the gather of visible tokens):
     * bias[n, h, i, j] = -|pos[n, i] - pos[n, j]| * slope[h] * scale[h].
     *
     * @param positions (N, K) float positions on the full time axis
     * @param slopes    (H) fixed
     * @param scale     (H) learned
     * @return (N, H, K, K)
     */
    public static NDArray alibi(NDArray positions, NDArray slopes, NDArray scale) {
        long h = slopes.getShape().get(0);
        NDArray distance = positions.expandDims(2).sub(positions.expandDims(1)).abs().neg().expandDims(1); // (N, 1, K, K)
        NDArray perHead = slopes.mul(scale).reshape(1, h, 1, 1);
        return distance.mul(perHead);
    }
}
