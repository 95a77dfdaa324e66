package dev.d2v.evaluate.probe;

import java.util.Random;

/** Seeded synthetic classification tasks for the probe tests. */
final class Synthetic {
    /** x: [N, D], y: [N]. */
    record Task(float[][] x, int[] y) {
    }

    private Synthetic() {
    }

    /**
     * C classes, each a Gaussian blob of the given spread around its own random centre at distance ~radius
     * from the origin in D dims: with radius &gt;&gt; spread the classes are linearly separable.
     */
    static Task blobs(int n, int dims, int classes, double radius, double spread, long seed) {
        Random centres = new Random(1234); // the same centres for train and test: only the seed of the samples varies
        double[][] mu = new double[classes][dims];
        for (int c = 0; c < classes; c++) {
            double norm = 0;
            for (int j = 0; j < dims; j++) {
                mu[c][j] = centres.nextGaussian();
                norm += mu[c][j] * mu[c][j];
            }
            for (int j = 0; j < dims; j++) {
                mu[c][j] *= radius / Math.sqrt(norm);
            }
        }
        Random r = new Random(seed);
        float[][] x = new float[n][dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int j = 0; j < dims; j++) {
                x[i][j] = (float) (mu[y[i]][j] + spread * r.nextGaussian());
            }
        }
        return new Task(x, y);
    }

    /**
     * Two classes N(-m e1, I) and N(+m e1, I) in D dims (only the first carries signal, the rest is noise):
     * the Bayes classifier is sign(x_1) with accuracy Phi(m). Features are shifted and scaled per dimension
     * so that standardisation has work to do.
     */
    static Task twoGaussians(int n, int dims, double m, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            for (int j = 0; j < dims; j++) {
                double v = r.nextGaussian() + (j == 0 ? (y[i] == 1 ? m : -m) : 0);
                x[i][j] = (float) (3.0 * (j + 1) * v + 10 * j);
            }
        }
        return new Task(x, y);
    }

    /** Standard normal CDF by the Abramowitz-Stegun 7.1.26 erf approximation (|error| &lt; 1.5e-7). */
    static double phi(double z) {
        double t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.sqrt(2));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double erf = 1 - poly * Math.exp(-z * z / 2);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }
}
