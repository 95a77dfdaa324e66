package dev.d2v.evaluate.features;

import java.util.Arrays;

/**
 * A feature matrix with its labels: what a frozen encoder made of one split of a probe task.
 *
 * @param features [N, D] one row per sample (e.g. an encoder's pooled outputs, {@code Readout})
 * @param labels   [N] class index per row
 */
public record FeatureSet(float[][] features, int[] labels) {
    public FeatureSet {
        if (features == null || labels == null) {
            throw new IllegalArgumentException("features and labels are required");
        }
        if (features.length != labels.length) {
            throw new IllegalArgumentException(features.length + " feature rows but " + labels.length + " labels");
        }
        int d = features.length == 0 ? 0 : features[0].length;
        for (int i = 0; i < features.length; i++) {
            if (features[i] == null || features[i].length != d) {
                throw new IllegalArgumentException("feature row " + i + " has "
                        + (features[i] == null ? "no" : features[i].length) + " values, row 0 has " + d);
            }
        }
    }

    public int rows() {
        return features.length;
    }

    public int dims() {
        return features.length == 0 ? 0 : features[0].length;
    }

    /** The last n columns of every row (all of them when n is 0 or the width). */
    public FeatureSet lastColumns(int n) {
        int d = dims();
        if (n < 0 || n > d) {
            throw new IllegalArgumentException("the last " + n + " of " + d + " columns");
        }
        if (n == 0 || n == d) {
            return this;
        }
        float[][] out = new float[features.length][];
        for (int i = 0; i < features.length; i++) {
            out[i] = Arrays.copyOfRange(features[i], d - n, d);
        }
        return new FeatureSet(out, labels);
    }

    /** Same shape, same bits. */
    public boolean contentEquals(FeatureSet other) {
        return Arrays.deepEquals(features, other.features) && Arrays.equals(labels, other.labels);
    }
}
