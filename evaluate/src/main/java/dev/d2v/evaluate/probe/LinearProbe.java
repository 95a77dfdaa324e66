package dev.d2v.evaluate.probe;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.d2v.evaluate.cpu.CpuShare;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ForkJoinPool;
import java.util.function.DoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The linear probe: multinomial logistic regression on fixed features.
 * <ol>
 *   <li>standardise with the training split's mean and std ({@link Standardizer});</li>
 *   <li>hold out a seeded validation subset of the training split; for each L2 strength of a short grid fit
 *       softmax regression on the rest by full-batch L-BFGS and measure validation accuracy;</li>
 *   <li>refit on the whole training split with the best strength (warm-started from its validation fit).</li>
 * </ol>
 * The objective runs on libtorch ({@link TorchSoftmaxObjective}, two float32 GEMMs per row chunk) or in plain Java
 * ({@link SoftmaxObjective}), as the config's {@link ProbeBackend} says; L-BFGS stays in Java.
 * Deterministic given the seed: the split is a seeded shuffle, the optimiser has no randomness, and the
 * gradient sums in a fixed order whatever the probe's thread count (on libtorch, for a given libtorch thread count).
 */
public final class LinearProbe {
    private static final Logger LOG = LoggerFactory.getLogger(LinearProbe.class);

    /**
     * @param l2Grid             L2 strengths tried (on the mean loss, standardised features); at least one
     * @param validationFraction share of the training split held out to pick the strength
     * @param maxValidation      cap on held-out rows: a few thousand already rank the grid reliably
     * @param maxIterations      L-BFGS iteration budget of the final fit
     * @param gridIterations     budget of each grid fit: it only has to rank the strengths, and the weakest ones
     *                           converge slowly on near-separable data
     * @param gradTolerance      stop when max |gradient| falls below this
     * @param relTolerance       stop when one iteration lowers the loss by less than this (relative)
     * @param history            L-BFGS memory m
     * @param seed               seeds the validation split
     * @param threads            parallelism of the plain-Java gradient; the evaluator shares the machine with the
     *                           trainer (libtorch's threads are set once for the process, before the engine loads)
     * @param backend            where the objective is computed: libtorch (default) or plain Java
     */
    public record Config(List<Double> l2Grid, double validationFraction, int maxValidation, int maxIterations,
                         int gridIterations,
                         double gradTolerance, double relTolerance, int history, long seed, int threads,
                         ProbeBackend backend) {
        public Config {
            if (l2Grid == null || l2Grid.isEmpty() || l2Grid.stream().anyMatch(l -> l == null || !(l >= 0) || Double.isInfinite(l))) {
                throw new IllegalArgumentException("l2Grid needs at least one finite strength >= 0, got " + l2Grid);
            }
            l2Grid = l2Grid.stream().sorted().distinct().toList(); // ascending
            if (!(validationFraction > 0 && validationFraction < 1)) {
                throw new IllegalArgumentException("validationFraction must be in (0, 1), got " + validationFraction);
            }
            if (maxValidation < 1 || maxIterations < 1 || gridIterations < 1 || history < 1 || threads < 1) {
                throw new IllegalArgumentException("maxValidation, maxIterations, gridIterations, history and threads must be >= 1");
            }
            if (!(gradTolerance >= 0) || !(relTolerance >= 0)) {
                throw new IllegalArgumentException("tolerances must be >= 0");
            }
            if (backend == null) {
                throw new IllegalArgumentException("backend is required");
            }
        }

        public static Config defaults() {
            return new Config(
                    // five decades around sklearn's default C=1 for N ~ 1e4..1e5 (lambda = 1/(C N)); the probe
                    // literature sweeps a similar short grid
                    List.of(1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
                    0.1,     // 10% held out, as the MAE/DINO probes hold out part of train for model selection
                    10_000,  // enough to separate grid points by more than their noise (~0.5% at 80% accuracy)
                    300,     // L-BFGS converges in 100-300 iterations on these problems; a budget bounds time
                    100,     // ranks the grid as a converged fit would (Fashion-MNIST: same choice, within 0.3%)
                    1e-5,
                    1e-7,    // a relative loss change of 1e-7 no longer moves test accuracy
                    10,      // Nocedal and Wright's usual m
                    42,
                    Math.max(1, Runtime.getRuntime().availableProcessors()),
                    ProbeBackend.TORCH); // 3x less CPU per objective evaluation than the plain-Java loops
        }

        /**
         * For the minutes-long local demo and per-checkpoint follow-up on a small machine: the three strengths that
         * won or came close on every task tried (raw Fashion-MNIST: 1e-2 best, 1e-3 and 1e-1 within 2 points) and
         * fewer iterations: about half the default's time for the same accuracy (Fashion-MNIST raw pixels, 5k
         * train: 82.3% in 27 s against 82.3% in 51 s).
         */
        public static Config quick() {
            Config d = defaults();
            return new Config(List.of(1e-3, 1e-2, 1e-1), d.validationFraction(), 5_000, 150, 80, d.gradTolerance(),
                    1e-6, d.history(), d.seed(), d.threads(), d.backend());
        }

        public Config withSeed(long newSeed) {
            return new Config(l2Grid, validationFraction, maxValidation, maxIterations, gridIterations, gradTolerance, relTolerance,
                    history, newSeed, threads, backend);
        }

        public Config withThreads(int n) {
            return new Config(l2Grid, validationFraction, maxValidation, maxIterations, gridIterations, gradTolerance, relTolerance,
                    history, seed, n, backend);
        }

        public Config withBackend(ProbeBackend b) {
            return new Config(l2Grid, validationFraction, maxValidation, maxIterations, gridIterations, gradTolerance, relTolerance,
                    history, seed, threads, b);
        }

        public Config withL2Grid(List<Double> grid) {
            return new Config(grid, validationFraction, maxValidation, maxIterations, gridIterations, gradTolerance, relTolerance,
                    history, seed, threads, backend);
        }

        public Config withMaxIterations(int n) {
            return new Config(l2Grid, validationFraction, maxValidation, n, gridIterations, gradTolerance, relTolerance,
                    history, seed, threads, backend);
        }
    }

    private LinearProbe() {
    }

    /**
     * Fits the probe.
     *
     * @param features   [N, D] training features (not modified)
     * @param labels     [N] in 0..numClasses-1
     * @param numClasses C &gt;= 2
     */
    public static LinearModel fit(float[][] features, int[] labels, int numClasses, Config config) {
        return fit(features, labels, numClasses, config, () -> { });
    }

    /**
     * The same, calling {@code pace} after each L-BFGS iteration (grid and final fit): the evaluator's CPU share
     * ({@link CpuShare}) sleeps there. The model does not depend on it.
     */
    public static LinearModel fit(float[][] features, int[] labels, int numClasses, Config config, Runnable pace) {
        Features.checkMatrix(features, "training features");
        Features.checkLabels(labels, features.length, numClasses, "training labels");
        long start = System.nanoTime();
        Standardizer standardizer = Standardizer.fit(features);
        float[][] x = standardizer.apply(features);
        int n = x.length;
        int dims = x[0].length;
        ForkJoinPool pool = new ForkJoinPool(config.threads());
        try (NDManager manager = config.backend() == ProbeBackend.TORCH ? NDManager.newBaseManager(Device.cpu()) : null) {
            Map<Double, Double> validation = new TreeMap<>();
            double bestL2 = config.l2Grid().get(config.l2Grid().size() / 2);
            double[] warm = null;
            int[][] split = split(n, config);
            if (split != null && config.l2Grid().size() > 1) {
                // a regularisation path: strongest first, each fit warm-started from the previous solution
                // (strong L2 converges in few iterations and lands near the weaker one's optimum)
                double bestAccuracy = -1;
                double[] theta = new double[SoftmaxObjective.parameterCount(numClasses, dims)];
                DoubleFunction<Lbfgs.Objective> fitRows = objective(x, labels, split[0], numClasses, config, pool, manager);
                for (int k = config.l2Grid().size() - 1; k >= 0; k--) {
                    double l2 = config.l2Grid().get(k);
                    long t0 = System.nanoTime();
                    Lbfgs.Result r = Lbfgs.minimize(fitRows.apply(l2),
                            theta, config.history(), config.gridIterations(), config.gradTolerance(), config.relTolerance(), pace);
                    double acc = accuracy(theta, x, labels, split[1], numClasses, dims);
                    validation.put(l2, acc);
                    LOG.debug("linear probe grid: l2 {} validation accuracy {} ({} iterations, converged {}, {} s)",
                            l2, acc, r.iterations(), r.converged(), (System.nanoTime() - t0) / 1e9);
                    if (acc > bestAccuracy) { // strict: on a tie the stronger (earlier) strength stays
                        bestAccuracy = acc;
                        bestL2 = l2;
                        warm = theta.clone();
                    }
                }
            } else if (config.l2Grid().size() == 1) {
                bestL2 = config.l2Grid().get(0);
            }
            double[] theta = warm != null ? warm.clone() : new double[SoftmaxObjective.parameterCount(numClasses, dims)];
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            Lbfgs.Result result = Lbfgs.minimize(objective(x, labels, all, numClasses, config, pool, manager).apply(bestL2), theta,
                    config.history(), config.maxIterations(), config.gradTolerance(), config.relTolerance(), pace);
            double trainAccuracy = accuracy(theta, x, labels, all, numClasses, dims);
            LOG.debug("linear probe final fit: l2 {}, {} iterations, converged {}, train accuracy {}, {} s in all",
                    bestL2, result.iterations(), result.converged(), trainAccuracy, (System.nanoTime() - start) / 1e9);
            return new LinearModel(standardizer, theta, numClasses, bestL2, validation, result.iterations(),
                    result.converged(), trainAccuracy, (System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    /**
     * The objective over {@code rows} as a function of the L2 strength; the strengths share one copy of the rows
     * (transposed blocks in Java, or their native copy in {@code manager}).
     */
    private static DoubleFunction<Lbfgs.Objective> objective(float[][] x, int[] y, int[] rows, int classes, Config config,
                                                             ForkJoinPool pool, NDManager manager) {
        return switch (config.backend()) {
            case TORCH -> {
                TorchSoftmaxObjective f = new TorchSoftmaxObjective(x, y, rows, classes, 0, manager);
                yield f::withLambda;
            }
            case JAVA -> {
                SoftmaxObjective f = new SoftmaxObjective(x, y, rows, classes, 0, pool);
                yield f::withLambda;
            }
        };
    }

    /**
     * Seeded split of 0..n-1 into [fit rows, validation rows], both sorted; null when n is too small to
     * hold anything out (fewer than 10 rows for validation, or fewer fit rows than that).
     */
    static int[][] split(int n, Config config) {
        int held = (int) Math.min(config.maxValidation(), Math.round(n * config.validationFraction()));
        if (held < 10 || n - held < 10) {
            return null;
        }
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(config.seed()));
        int[] validation = order.subList(0, held).stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] fit = order.subList(held, n).stream().mapToInt(Integer::intValue).sorted().toArray();
        return new int[][] {fit, validation};
    }

    private static double accuracy(double[] theta, float[][] x, int[] y, int[] rows, int classes, int dims) {
        double[] z = new double[classes];
        int hit = 0;
        for (int i : rows) {
            SoftmaxObjective.logits(theta, x[i], classes, dims, z);
            if (LinearModel.argmax(z) == y[i]) {
                hit++;
            }
        }
        return (double) hit / rows.length;
    }
}
