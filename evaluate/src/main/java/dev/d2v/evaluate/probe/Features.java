package dev.d2v.evaluate.probe;

/** Checks shared by the probes on their (features [N, D], labels [N]) inputs. */
final class Features {
    private Features() {
    }

    /** x: [N, D] with N &gt;= 1, D &gt;= 1, all rows of length D, all values finite. */
    static void checkMatrix(float[][] x, String what) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException(what + ": no rows");
        }
        int d = x[0] == null ? 0 : x[0].length;
        if (d == 0) {
            throw new IllegalArgumentException(what + ": rows have no features");
        }
        for (int i = 0; i < x.length; i++) {
            if (x[i] == null || x[i].length != d) {
                throw new IllegalArgumentException(what + ": row " + i + " has " + (x[i] == null ? "no" : x[i].length)
                        + " features, row 0 has " + d);
            }
            for (float v : x[i]) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException(what + ": row " + i + " holds a non-finite value " + v);
                }
            }
        }
    }

    /** labels: [N] in 0..numClasses-1. */
    static void checkLabels(int[] y, int n, int numClasses, String what) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("need at least 2 classes, got " + numClasses);
        }
        if (y == null || y.length != n) {
            throw new IllegalArgumentException(what + ": " + (y == null ? "no" : y.length) + " labels for " + n + " rows");
        }
        for (int i = 0; i < n; i++) {
            if (y[i] < 0 || y[i] >= numClasses) {
                throw new IllegalArgumentException(what + ": label " + y[i] + " at row " + i + " is outside 0.." + (numClasses - 1));
            }
        }
    }

    /** Fraction of predicted[i] == y[i]. */
    static double accuracy(int[] predicted, int[] y) {
        if (predicted.length != y.length || y.length == 0) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + y.length + " labels");
        }
        int hit = 0;
        for (int i = 0; i < y.length; i++) {
            if (predicted[i] == y[i]) {
                hit++;
            }
        }
        return (double) hit / y.length;
    }
}
