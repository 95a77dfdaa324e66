package dev.d2v.evaluate.probe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * {@link SoftmaxObjective}'s function on libtorch (the engine the encoder runs on): the same
 * <pre>
 *   f(W, b) = 1/N sum_i [ logsumexp(W x_i + b) - (W x_i + b)[y_i] ] + lambda/2 ||W||^2
 *   x: [N, D] standardised features, W: [C, D], b: [C];  theta (flat): W row-major, then b
 * </pre>
 * as two float32 matrix products per evaluation, in row chunks of {@link #CHUNK}:
 * <pre>
 *   Z = X W^T + b             [n, C]  (float32 GEMM; read back as float64)
 *   P = softmax(Z) - onehot   [n, C]  (float64: log-softmax, loss summed in double)
 *   G += P^T X                [C, D]  (float32 GEMM per chunk, chunks summed in double in Java)
 * </pre>
 * The features are copied to native memory once (the owner's {@link NDManager}); each evaluation's temporaries live
 * in a sub-manager closed before it returns. Float32 products over a chunk carry the same rounding as the plain-Java
 * objective's float blocks (relative ~1e-6 on the gradient); the loss and the sums across chunks are double. The
 * result depends on libtorch's thread count (its GEMM blocking), not on the probe's {@code threads}.
 */
final class TorchSoftmaxObjective implements Lbfgs.Objective {
    /**
     * Rows per GEMM chunk: the chunk is read twice per evaluation (Z, then G), so it should stay near the cache in
     * between. Measured per 54k x 784 x 10 evaluation: 512-2048 rows 0.09 CPU s, 8192 rows 0.11, one chunk 0.12.
     */
    static final int CHUNK = 2048;

    private final NDManager manager;
    private final NDArray[] xChunks;      // per chunk [n, D] float32
    private final NDArray[] onehotChunks; // per chunk [n, C] float64
    private final int rows;
    private final int classes;
    private final int dims;
    private final double lambda;

    /**
     * @param x       [N, D] standardised features
     * @param y       [N] labels
     * @param rows    the row indices this objective sums over (a training subset)
     * @param classes C
     * @param lambda  L2 strength on W
     * @param manager owns the native copy of the rows; close it to free them
     */
    TorchSoftmaxObjective(float[][] x, int[] y, int[] rows, int classes, double lambda, NDManager manager) {
        this(x, y, rows, classes, lambda, manager, CHUNK);
    }

    /** The same with {@code chunk} rows per GEMM. */
    TorchSoftmaxObjective(float[][] x, int[] y, int[] rows, int classes, double lambda, NDManager manager, int chunk) {
        this(manager, upload(x, rows, manager, chunk), onehots(y, rows, classes, manager, chunk), rows.length, classes,
                x[0].length, lambda);
    }

    private TorchSoftmaxObjective(NDManager manager, NDArray[] xChunks, NDArray[] onehotChunks, int rows, int classes,
                                  int dims, double lambda) {
        this.manager = manager;
        this.xChunks = xChunks;
        this.onehotChunks = onehotChunks;
        this.rows = rows;
        this.classes = classes;
        this.dims = dims;
        this.lambda = lambda;
    }

    /** The same rows with another L2 strength, sharing the native features. */
    TorchSoftmaxObjective withLambda(double newLambda) {
        return new TorchSoftmaxObjective(manager, xChunks, onehotChunks, rows, classes, dims, newLambda);
    }

    private static NDArray[] upload(float[][] x, int[] rows, NDManager manager, int chunk) {
        int dims = x[0].length;
        NDArray[] chunks = new NDArray[(rows.length + chunk - 1) / chunk];
        for (int c = 0; c < chunks.length; c++) {
            int from = c * chunk;
            int n = Math.min(chunk, rows.length - from);
            float[] flat = new float[n * dims];
            for (int i = 0; i < n; i++) {
                System.arraycopy(x[rows[from + i]], 0, flat, i * dims, dims);
            }
            chunks[c] = manager.create(flat, new Shape(n, dims));
        }
        return chunks;
    }

    private static NDArray[] onehots(int[] y, int[] rows, int classes, NDManager manager, int chunk) {
        NDArray[] chunks = new NDArray[(rows.length + chunk - 1) / chunk];
        for (int c = 0; c < chunks.length; c++) {
            int from = c * chunk;
            int n = Math.min(chunk, rows.length - from);
            double[] flat = new double[n * classes];
            for (int i = 0; i < n; i++) {
                flat[i * classes + y[rows[from + i]]] = 1;
            }
            chunks[c] = manager.create(flat, new Shape(n, classes));
        }
        return chunks;
    }

    @Override
    public double evaluate(double[] theta, double[] grad) {
        int weights = classes * dims;
        float[] w = new float[weights];
        float[] b = new float[classes];
        for (int j = 0; j < weights; j++) {
            w[j] = (float) theta[j];
        }
        for (int c = 0; c < classes; c++) {
            b[c] = (float) theta[weights + c];
        }
        Arrays.fill(grad, 0);
        double loss = 0;
        // NDScope closes every array made inside it, including results owned by the features' manager
        try (NDManager scope = manager.newSubManager(); NDScope ignored = new NDScope()) {
            NDArray wt = scope.create(w, new Shape(classes, dims)).transpose(); // [D, C]
            NDArray bias = scope.create(b, new Shape(1, classes));
            for (int c = 0; c < xChunks.length; c++) {
                NDArray x = xChunks[c];
                NDArray onehot = onehotChunks[c];
                NDArray z = x.matMul(wt).add(bias).toType(DataType.FLOAT64, false);                 // [n, C]
                NDArray logP = z.logSoftmax(1);
                loss -= logP.mul(onehot).sum().getDouble();
                NDArray delta = logP.exp().sub(onehot);                                               // [n, C]
                float[] g = delta.toType(DataType.FLOAT32, false).transpose().matMul(x).toFloatArray(); // [C, D]
                double[] gb = delta.sum(new int[] {0}).toDoubleArray();                              // [C]
                for (int j = 0; j < weights; j++) {
                    grad[j] += g[j];
                }
                for (int k = 0; k < classes; k++) {
                    grad[weights + k] += gb[k];
                }
            }
        }
        double invN = 1.0 / rows;
        double penalty = 0;
        for (int j = 0; j < grad.length; j++) {
            grad[j] *= invN;
        }
        for (int j = 0; j < weights; j++) {
            penalty += theta[j] * theta[j];
            grad[j] += lambda * theta[j];
        }
        return loss * invN + 0.5 * lambda * penalty;
    }
}
