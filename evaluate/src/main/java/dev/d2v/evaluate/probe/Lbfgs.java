package dev.d2v.evaluate.probe;

/**
 * Limited-memory BFGS (Nocedal and Wright, Algorithm 7.4, two-loop recursion) with a backtracking Armijo line
 * search, for smooth convex objectives such as L2-regularised softmax regression. Deterministic: no randomness,
 * and the objective decides its own summation order.
 */
final class Lbfgs {
    /** f(theta) and its gradient; {@code grad} is overwritten, the loss returned. */
    interface Objective {
        double evaluate(double[] theta, double[] grad);
    }

    /**
     * @param iterations optimizer iterations done
     * @param loss       final objective value
     * @param converged  whether a tolerance was met before the iteration limit
     */
    record Result(int iterations, double loss, boolean converged) {
    }

    private Lbfgs() {
    }

    /**
     * Minimises f starting at theta (updated in place).
     *
     * @param history        m, the number of (s, y) pairs kept (10 is the usual choice)
     * @param maxIterations  the budget
     * @param gradTolerance  stop when max |grad| &lt; this
     * @param relTolerance   stop when the loss decrease is below relTolerance * max(1, |f|)
     * @param pace           called after each iteration (line search included): the caller's CPU governor sleeps there
     */
    static Result minimize(Objective f, double[] theta, int history, int maxIterations, double gradTolerance,
                           double relTolerance, Runnable pace) {
        int n = theta.length;
        double[][] s = new double[history][];
        double[][] y = new double[history][];
        double[] rho = new double[history];
        int stored = 0;
        int newest = -1;

        double[] g = new double[n];
        double loss = f.evaluate(theta, g);
        double[] d = new double[n];
        double[] trial = new double[n];
        double[] gTrial = new double[n];
        double[] alpha = new double[history];

        for (int it = 1; it <= maxIterations; it++) {
            if (maxAbs(g) < gradTolerance) {
                return new Result(it - 1, loss, true);
            }
            // d = -H g by the two-loop recursion; H0 = gamma I with gamma = s'y / y'y of the newest pair
            System.arraycopy(g, 0, d, 0, n);
            for (int k = 0; k < stored; k++) {
                int i = Math.floorMod(newest - k, history);
                alpha[i] = rho[i] * dot(s[i], d);
                axpy(-alpha[i], y[i], d);
            }
            double gamma = stored == 0 ? 1.0 / Math.max(1.0, Math.sqrt(dot(g, g))) : dot(s[newest], y[newest]) / dot(y[newest], y[newest]);
            scale(d, gamma);
            for (int k = stored - 1; k >= 0; k--) {
                int i = Math.floorMod(newest - k, history);
                double beta = rho[i] * dot(y[i], d);
                axpy(alpha[i] - beta, s[i], d);
            }
            scale(d, -1.0);
            double slope = dot(g, d);
            if (!(slope < 0)) { // not a descent direction (numerical trouble): restart from steepest descent
                stored = 0;
                for (int j = 0; j < n; j++) {
                    d[j] = -g[j] / Math.max(1.0, Math.sqrt(dot(g, g)));
                }
                slope = dot(g, d);
            }

            double step = 1.0;
            double trialLoss = Double.NaN;
            boolean accepted = false;
            for (int halvings = 0; halvings < 40; halvings++) {
                for (int j = 0; j < n; j++) {
                    trial[j] = theta[j] + step * d[j];
                }
                trialLoss = f.evaluate(trial, gTrial);
                if (trialLoss <= loss + 1e-4 * step * slope) {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (!accepted) {
                return new Result(it, loss, true); // no decrease possible at machine precision: a minimum
            }

            double sy = 0;
            for (int j = 0; j < n; j++) {
                sy += (trial[j] - theta[j]) * (gTrial[j] - g[j]);
            }
            if (sy > 1e-12) { // keep the pair only when the curvature condition holds (H stays positive definite)
                newest = (newest + 1) % history;
                if (s[newest] == null) {
                    s[newest] = new double[n];
                    y[newest] = new double[n];
                }
                for (int j = 0; j < n; j++) {
                    s[newest][j] = trial[j] - theta[j];
                    y[newest][j] = gTrial[j] - g[j];
                }
                rho[newest] = 1.0 / sy;
                stored = Math.min(stored + 1, history);
            }

            double decrease = loss - trialLoss;
            System.arraycopy(trial, 0, theta, 0, n);
            System.arraycopy(gTrial, 0, g, 0, n);
            loss = trialLoss;
            pace.run();
            if (decrease < relTolerance * Math.max(1.0, Math.abs(loss))) {
                return new Result(it, loss, true);
            }
        }
        return new Result(maxIterations, loss, false);
    }

    static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double[] x, double a) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
