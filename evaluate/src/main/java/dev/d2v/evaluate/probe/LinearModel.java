package dev.d2v.evaluate.probe;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fitted linear probe: standardisation, then argmax of W x + b.
 *
 * <pre>
 *   input x: [D] raw features (as given to {@link LinearProbe#fit}), standardised here
 *   W: [C, D], b: [C]
 * </pre>
 */
public final class LinearModel {
    private final Standardizer standardizer;
    private final double[] theta; // W row-major [C*D], then b [C]
    private final int classes;
    private final double l2;
    private final Map<Double, Double> validationAccuracy;
    private final int iterations;
    private final boolean converged;
    private final double trainAccuracy;
    private final double fitSeconds;

    LinearModel(Standardizer standardizer, double[] theta, int classes, double l2, Map<Double, Double> validationAccuracy,
                int iterations, boolean converged, double trainAccuracy, double fitSeconds) {
        this.standardizer = standardizer;
        this.theta = theta;
        this.classes = classes;
        this.l2 = l2;
        this.validationAccuracy = Collections.unmodifiableMap(new LinkedHashMap<>(validationAccuracy));
        this.iterations = iterations;
        this.converged = converged;
        this.trainAccuracy = trainAccuracy;
        this.fitSeconds = fitSeconds;
    }

    public int numClasses() {
        return classes;
    }

    public int dims() {
        return standardizer.dims();
    }

    /** The chosen L2 strength. */
    public double l2() {
        return l2;
    }

    /** Validation accuracy per L2 strength tried (empty when the grid had one entry or too few rows). */
    public Map<Double, Double> validationAccuracy() {
        return validationAccuracy;
    }

    /** L-BFGS iterations of the final fit. */
    public int iterations() {
        return iterations;
    }

    /** Whether the final fit met a tolerance before its iteration budget. */
    public boolean converged() {
        return converged;
    }

    public double trainAccuracy() {
        return trainAccuracy;
    }

    /** Wall time of {@link LinearProbe#fit}, grid included. */
    public double fitSeconds() {
        return fitSeconds;
    }

    /** Class scores W x' + b for one raw feature vector [D] -&gt; [C]. */
    public double[] logits(float[] features) {
        double[] z = new double[classes];
        SoftmaxObjective.logits(theta, standardizer.apply(features), classes, standardizer.dims(), z);
        return z;
    }

    /** Predicted class of one raw feature vector [D]. */
    public int predict(float[] features) {
        return argmax(logits(features));
    }

    /** [N, D] -&gt; [N] predicted classes. */
    public int[] predict(float[][] features) {
        int[] out = new int[features.length];
        for (int i = 0; i < features.length; i++) {
            out[i] = predict(features[i]);
        }
        return out;
    }

    /** Top-1 accuracy on [N, D] features with [N] labels. */
    public double accuracy(float[][] features, int[] labels) {
        Features.checkMatrix(features, "test features");
        Features.checkLabels(labels, features.length, classes, "test labels");
        return Features.accuracy(predict(features), labels);
    }

    /** Index of the largest entry; the lowest index on ties. */
    static int argmax(double[] z) {
        int best = 0;
        for (int c = 1; c < z.length; c++) {
            if (z[c] > z[best]) {
                best = c;
            }
        }
        return best;
    }
}
