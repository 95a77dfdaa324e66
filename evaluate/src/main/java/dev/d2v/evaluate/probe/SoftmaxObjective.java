package dev.d2v.evaluate.probe;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Mean softmax cross-entropy of a linear classifier plus an L2 penalty on the weights (not the bias):
 * <pre>
 *   f(W, b) = 1/N sum_i [ logsumexp(W x_i + b) - (W x_i + b)[y_i] ] + lambda/2 ||W||^2
 *   x: [N, D] standardised features, W: [C, D], b: [C]
 *   theta (flat): W row-major ([C*D]) then b ([C])
 * </pre>
 * Layout for speed in plain Java: rows go in blocks of {@link #BLOCK}; each block is also kept transposed
 * ([D, B]), so that both the forward pass (Z[c, :] += W[c, j] * Xt[j, :]) and the backward pass
 * (G[c, :] += (p - y)[i, c] * X[i, :]) are float axpy loops, which the JIT vectorises (dot-product reductions
 * and float-to-double loops it does not). Logits and gradients sum in float within a block of 256 rows, in
 * double across blocks. Blocks are grouped into parallel chunks whose partial sums are added in chunk order,
 * so the result is bit-identical whatever the thread count or scheduling.
 */
final class SoftmaxObjective implements Lbfgs.Objective {
    /** Rows per block: the block's logits [C, B] and one transposed feature row [B] stay in L1. */
    static final int BLOCK = 256;
    /** Blocks per parallel task: amortises the [C*(D+1)] partial gradient. */
    static final int BLOCKS_PER_CHUNK = 8;

    private final float[][] x;
    private final int[] y;
    private final int[] rows;
    private final float[][] transposed; // per block: [D * B] with element (j, i) at j * B + i
    private final int classes;
    private final int dims;
    private final double lambda;
    private final ForkJoinPool pool;

    /**
     * @param x       [N, D] standardised features
     * @param y       [N] labels
     * @param rows    the row indices this objective sums over (a training subset)
     * @param classes C
     * @param lambda  L2 strength on W
     * @param pool    where the chunks run
     */
    SoftmaxObjective(float[][] x, int[] y, int[] rows, int classes, double lambda, ForkJoinPool pool) {
        this(x, y, rows, transpose(x, rows), classes, lambda, pool);
    }

    private SoftmaxObjective(float[][] x, int[] y, int[] rows, float[][] transposed, int classes, double lambda,
                             ForkJoinPool pool) {
        this.x = x;
        this.y = y;
        this.rows = rows;
        this.transposed = transposed;
        this.classes = classes;
        this.dims = x[0].length;
        this.lambda = lambda;
        this.pool = pool;
    }

    /** The same rows with another L2 strength, sharing the transposed blocks (no copy of the features). */
    SoftmaxObjective withLambda(double newLambda) {
        return new SoftmaxObjective(x, y, rows, transposed, classes, newLambda, pool);
    }

    /** Per block of {@link #BLOCK} rows: [D * B] with element (j, i) at j * B + i. */
    private static float[][] transpose(float[][] x, int[] rows) {
        int dims = x[0].length;
        float[][] blocks = new float[(rows.length + BLOCK - 1) / BLOCK][];
        for (int b = 0; b < blocks.length; b++) {
            int from = b * BLOCK;
            int n = Math.min(BLOCK, rows.length - from);
            float[] t = new float[dims * n];
            for (int i = 0; i < n; i++) {
                float[] row = x[rows[from + i]];
                for (int j = 0; j < dims; j++) {
                    t[j * n + i] = row[j];
                }
            }
            blocks[b] = t;
        }
        return blocks;
    }

    static int parameterCount(int classes, int dims) {
        return classes * (dims + 1);
    }

    @Override
    public double evaluate(double[] theta, double[] grad) {
        float[] w = new float[theta.length];
        for (int j = 0; j < theta.length; j++) {
            w[j] = (float) theta[j];
        }
        int chunks = (transposed.length + BLOCKS_PER_CHUNK - 1) / BLOCKS_PER_CHUNK;
        double[][] partials;
        try {
            partials = pool.submit(() -> IntStream.range(0, chunks).parallel()
                    .mapToObj(c -> chunk(w, c * BLOCKS_PER_CHUNK, Math.min(transposed.length, (c + 1) * BLOCKS_PER_CHUNK)))
                    .toArray(double[][]::new)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fitting the linear probe", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("linear probe gradient failed: " + e.getCause(), e.getCause());
        }
        int p = theta.length; // partial layout: [gradient sums (C*(D+1)), loss sum]
        Arrays.fill(grad, 0);
        double loss = 0;
        for (double[] part : partials) { // in chunk order: deterministic
            for (int j = 0; j < p; j++) {
                grad[j] += part[j];
            }
            loss += part[p];
        }
        double invN = 1.0 / rows.length;
        double penalty = 0;
        int weights = classes * dims;
        for (int j = 0; j < p; j++) {
            grad[j] *= invN;
        }
        for (int j = 0; j < weights; j++) {
            penalty += theta[j] * theta[j];
            grad[j] += lambda * theta[j];
        }
        return loss * invN + 0.5 * lambda * penalty;
    }

    /** Sums over blocks [from, to): returns [C*(D+1)] gradient sums, then the loss sum. */
    private double[] chunk(float[] w, int fromBlock, int toBlock) {
        int wEnd = classes * dims;
        double[] out = new double[w.length + 1];
        float[] g = new float[w.length];
        float[] z = new float[classes * BLOCK];
        double loss = 0;
        for (int b = fromBlock; b < toBlock; b++) {
            int first = b * BLOCK;
            int n = Math.min(BLOCK, rows.length - first);
            float[] t = transposed[b];
            // forward: z[c, i] = b[c] + sum_j W[c, j] * Xt[j, i]          z: [C, n]
            for (int c = 0; c < classes; c++) {
                Arrays.fill(z, c * n, c * n + n, w[wEnd + c]);
            }
            for (int j = 0; j < dims; j++) {
                int tj = j * n;
                for (int c = 0; c < classes; c++) {
                    float wcj = w[c * dims + j];
                    int zc = c * n;
                    for (int i = 0; i < n; i++) {
                        z[zc + i] += wcj * t[tj + i];
                    }
                }
            }
            // softmax per row, loss, and z := p - onehot(y)
            Arrays.fill(g, 0f);
            for (int i = 0; i < n; i++) {
                int label = y[rows[first + i]];
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, z[c * n + i]);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp(z[c * n + i] - max);
                }
                loss += Math.log(sum) - (z[label * n + i] - max); // logsumexp - z[y], shifted by max
                for (int c = 0; c < classes; c++) {
                    z[c * n + i] = (float) (Math.exp(z[c * n + i] - max) / sum) - (c == label ? 1f : 0f);
                }
            }
            // backward: G[c, :] += (p - y)[c, i] * X[i, :];  db[c] += (p - y)[c, i]
            for (int i = 0; i < n; i++) {
                float[] xi = x[rows[first + i]];
                for (int c = 0; c < classes; c++) {
                    float coef = z[c * n + i];
                    int off = c * dims;
                    for (int j = 0; j < dims; j++) {
                        g[off + j] += coef * xi[j];
                    }
                    g[wEnd + c] += coef;
                }
            }
            for (int j = 0; j < g.length; j++) {
                out[j] += g[j];
            }
        }
        out[w.length] = loss;
        return out;
    }

    /** z[c] = W[c] . x + b[c] in double, for prediction; theta as in the class comment. */
    static void logits(double[] theta, float[] x, int classes, int dims, double[] z) {
        int bias = classes * dims;
        for (int c = 0; c < classes; c++) {
            int off = c * dims;
            double a0 = 0;
            double a1 = 0;
            int j = 0;
            for (; j + 1 < dims; j += 2) {
                a0 += theta[off + j] * x[j];
                a1 += theta[off + j + 1] * x[j + 1];
            }
            for (; j < dims; j++) {
                a0 += theta[off + j] * x[j];
            }
            z[c] = a0 + a1 + theta[bias + c];
        }
    }
}
