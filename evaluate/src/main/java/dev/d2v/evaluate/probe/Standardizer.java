package dev.d2v.evaluate.probe;

import java.util.Arrays;

/**
 * Per-feature standardisation with statistics from the training split only: x' = (x - mean) / std.
 * A (near) constant feature gets std 1, so it maps to 0 instead of blowing up.
 *
 * @param mean [D] training mean per feature
 * @param std  [D] training standard deviation per feature (population), &gt;= {@link #MIN_STD}
 */
public record Standardizer(double[] mean, double[] std) {
    /** Below this a feature counts as constant (features are fp32: relative noise ~1e-7). */
    public static final double MIN_STD = 1e-6;

    public Standardizer {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " features, std " + std.length);
        }
    }

    /** Statistics of x: [N, D], N &gt;= 1, every row of length D. Two passes in double. */
    public static Standardizer fit(float[][] x) {
        Features.checkMatrix(x, "features");
        int n = x.length;
        int d = x[0].length;
        double[] mean = new double[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[] var = new double[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                double c = row[j] - mean[j];
                var[j] += c * c;
            }
        }
        double[] std = new double[d];
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(var[j] / n);
            std[j] = s < MIN_STD ? 1.0 : s;
        }
        return new Standardizer(mean, std);
    }

    /** The same mean with every std 1: x' = x - mean. */
    public Standardizer centringOnly() {
        double[] one = new double[mean.length];
        Arrays.fill(one, 1.0);
        return new Standardizer(mean, one);
    }

    public int dims() {
        return mean.length;
    }

    /** [D] -&gt; [D], a new array. */
    public float[] apply(float[] row) {
        if (row.length != mean.length) {
            throw new IllegalArgumentException("feature vector has " + row.length + " dims, the probe was fit on " + mean.length);
        }
        float[] out = new float[row.length];
        for (int j = 0; j < row.length; j++) {
            out[j] = (float) ((row[j] - mean[j]) / std[j]);
        }
        return out;
    }

    /** [N, D] -&gt; [N, D], new arrays. */
    public float[][] apply(float[][] x) {
        float[][] out = new float[x.length][];
        Arrays.setAll(out, i -> apply(x[i]));
        return out;
    }
}
