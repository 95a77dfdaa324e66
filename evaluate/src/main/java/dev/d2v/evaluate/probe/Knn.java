package dev.d2v.evaluate.probe;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Weighted k-nearest-neighbour classification on fixed features, as in DINO (Caron et al. 2021, eval_knn.py):
 * features are L2-normalised, similarity is the cosine, the k most similar training rows vote for their labels
 * with weight exp(similarity / T), and the class with the largest total wins. No training beyond storing the
 * normalised bank.
 * <pre>
 *   bank: [N, D] training features (normalised), queries: [Q, D]
 *   sim = queries . bank^T  [Q, N];  topk per row;  votes[c] = sum over neighbours with label c of exp(sim / T)
 * </pre>
 * Deterministic: each query is independent, and ties in similarity go to the lower training index.
 */
public final class Knn {
    /** Training rows per transposed block of the bank (the block's similarities stay in L1). */
    static final int BLOCK = 256;
    /** Queries per thread between two calls of the pace hook. */
    static final int QUERY_BLOCK = 64;
    /** Queries per similarity GEMM on libtorch: [512, N] float similarities (123 MB for a 60k bank). */
    static final int TORCH_QUERY_BLOCK = 512;
    /**
     * Candidates beyond k that libtorch's top-k returns: its order among equal similarities is unspecified, so the
     * final k are picked in Java by (similarity, lower index), as the plain-Java heap does; exact unless more than
     * this many bank rows tie with the k-th (duplicate rows).
     */
    static final int TIE_MARGIN = 8;

    /**
     * @param k           neighbours that vote; DINO reports k = 20 (best or near best on ImageNet among 10, 20, 100, 200)
     * @param temperature T of the exp(sim / T) vote weights; DINO's 0.07
     * @param threads     parallelism over queries of the plain-Java backend (libtorch's threads are the process's)
     * @param backend     where the similarities and the top-k are computed: libtorch (default) or plain Java
     */
    public record Config(int k, double temperature, int threads, ProbeBackend backend) {
        public Config {
            if (k < 1) {
                throw new IllegalArgumentException("k must be >= 1, got " + k);
            }
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            if (backend == null) {
                throw new IllegalArgumentException("backend is required");
            }
        }

        /** On libtorch. */
        public Config(int k, double temperature, int threads) {
            this(k, temperature, threads, ProbeBackend.TORCH);
        }

        public static Config defaults() {
            return new Config(20, 0.07, Math.max(1, Runtime.getRuntime().availableProcessors()));
        }

        public Config withK(int newK) {
            return new Config(newK, temperature, threads, backend);
        }

        public Config withThreads(int n) {
            return new Config(k, temperature, n, backend);
        }

        public Config withBackend(ProbeBackend b) {
            return new Config(k, temperature, threads, b);
        }
    }

    private final float[][] bankBlocks; // JAVA: per block [D * B], element (j, i) at j * B + i; TORCH: [N][D] rows
    private final int[] labels;
    private final int classes;
    private final int dims;
    private final Config config;

    private Knn(float[][] bankBlocks, int[] labels, int classes, int dims, Config config) {
        this.bankBlocks = bankBlocks;
        this.labels = labels;
        this.classes = classes;
        this.dims = dims;
        this.config = config;
    }

    /** Stores the normalised training features [N, D] with their labels [N]. */
    public static Knn fit(float[][] features, int[] labels, int numClasses, Config config) {
        Features.checkMatrix(features, "training features");
        Features.checkLabels(labels, features.length, numClasses, "training labels");
        int n = features.length;
        int dims = features[0].length;
        if (config.backend() == ProbeBackend.TORCH) {
            float[][] rows = new float[n][];
            Arrays.setAll(rows, i -> normalized(features[i]));
            return new Knn(rows, labels.clone(), numClasses, dims, config);
        }
        float[][] blocks = new float[(n + BLOCK - 1) / BLOCK][];
        for (int b = 0; b < blocks.length; b++) {
            int from = b * BLOCK;
            int size = Math.min(BLOCK, n - from);
            float[] t = new float[dims * size];
            for (int i = 0; i < size; i++) {
                float[] unit = normalized(features[from + i]);
                for (int j = 0; j < dims; j++) {
                    t[j * size + i] = unit[j];
                }
            }
            blocks[b] = t;
        }
        return new Knn(blocks, labels.clone(), numClasses, dims, config);
    }

    /** Fits on the training split and returns the top-1 accuracy on the test split. */
    public static double accuracy(float[][] trainFeatures, int[] trainLabels, float[][] testFeatures, int[] testLabels,
                                  int numClasses, Config config) {
        return accuracy(trainFeatures, trainLabels, testFeatures, testLabels, numClasses, config, () -> { });
    }

    /** The same, calling {@code pace} after each block of queries (see {@link #predict(float[][], Runnable)}). */
    public static double accuracy(float[][] trainFeatures, int[] trainLabels, float[][] testFeatures, int[] testLabels,
                                  int numClasses, Config config, Runnable pace) {
        return fit(trainFeatures, trainLabels, numClasses, config).accuracy(testFeatures, testLabels, pace);
    }

    /**
     * Both splits minus the training rows' mean, {train [N, D], test [Q, D]}: the centring of SimpleShot's CL2N (Wang
     * et al. 2019, "SimpleShot: Revisiting Nearest-Neighbor Classification for Few-Shot Learning"), after which the
     * cosine compares what varies between inputs rather than a direction they all share. The inputs are not changed.
     */
    public static float[][][] centred(float[][] train, float[][] test) {
        Standardizer centre = Standardizer.fit(train).centringOnly();
        return new float[][][] {centre.apply(train), centre.apply(test)};
    }

    /** x / ||x||_2; a zero vector stays zero (similarity 0 to everything). */
    static float[] normalized(float[] x) {
        double sq = 0;
        for (float v : x) {
            sq += (double) v * v;
        }
        float[] out = x.clone();
        if (sq > 0) {
            float inv = (float) (1 / Math.sqrt(sq));
            for (int j = 0; j < out.length; j++) {
                out[j] *= inv;
            }
        }
        return out;
    }

    /** Predicted class of one query [D]; on libtorch this copies the bank to native memory per call: batch queries. */
    public int predict(float[] query) {
        if (query.length != dims) {
            throw new IllegalArgumentException("query has " + query.length + " dims, the k-NN bank has " + dims);
        }
        if (config.backend() == ProbeBackend.TORCH) {
            return predict(new float[][] {query})[0];
        }
        return predictJava(query);
    }

    private int predictJava(float[] query) {
        float[] q = normalized(query);
        int k = Math.min(config.k(), labels.length);
        float[] topSim = new float[k];   // min-heap on (sim, -index): the root is the weakest neighbour kept
        int[] topIdx = new int[k];
        int size = 0;
        float[] sims = new float[BLOCK];
        for (int b = 0; b < bankBlocks.length; b++) {
            float[] t = bankBlocks[b];
            int n = t.length / dims;
            Arrays.fill(sims, 0, n, 0f);
            for (int j = 0; j < dims; j++) { // sims[i] += q[j] * bank[i, j]: an axpy over the block
                float qj = q[j];
                int off = j * n;
                for (int i = 0; i < n; i++) {
                    sims[i] += qj * t[off + i];
                }
            }
            int first = b * BLOCK;
            for (int i = 0; i < n; i++) {
                int idx = first + i;
                if (size < k) {
                    topSim[size] = sims[i];
                    topIdx[size] = idx;
                    siftUp(topSim, topIdx, size++);
                } else if (stronger(sims[i], idx, topSim[0], topIdx[0])) {
                    topSim[0] = sims[i];
                    topIdx[0] = idx;
                    siftDown(topSim, topIdx, k);
                }
            }
        }
        double[] votes = new double[classes];
        for (int m = 0; m < size; m++) {
            votes[labels[topIdx[m]]] += Math.exp(topSim[m] / config.temperature());
        }
        return LinearModel.argmax(votes);
    }

    /** [Q, D] -&gt; [Q] predicted classes, queries in parallel. */
    public int[] predict(float[][] queries) {
        return predict(queries, () -> { });
    }

    /**
     * The same in blocks of {@link #QUERY_BLOCK} queries per thread, calling {@code pace} after each block: the
     * evaluator's CPU share sleeps there (a block costs QUERY_BLOCK x N x D multiply-adds per thread, well under a
     * second for the probe tasks' banks).
     */
    public int[] predict(float[][] queries, Runnable pace) {
        if (config.backend() == ProbeBackend.TORCH) {
            return predictTorch(queries, pace);
        }
        ForkJoinPool pool = new ForkJoinPool(config.threads());
        int[] out = new int[queries.length];
        int block = QUERY_BLOCK * config.threads();
        try {
            for (int from = 0; from < queries.length; from += block) {
                int start = from;
                int end = Math.min(queries.length, from + block);
                pool.submit(() -> IntStream.range(start, end).parallel().forEach(i -> out[i] = predictJava(queries[i]))).get();
                pace.run();
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during k-NN", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            pool.shutdown();
        }
    }

    /**
     * libtorch: per block of {@link #TORCH_QUERY_BLOCK} queries
     * <pre>
     *   sim = Q_block . bank^T    [q, N]  (float32 GEMM, rows of both normalised in Java as in the plain path)
     *   topk(sim, k + margin)     [q, k'] values and indices, then the final k by (sim desc, index asc) in Java
     * </pre>
     * and the same exp(sim / T) vote; {@code pace} after each block.
     */
    private int[] predictTorch(float[][] queries, Runnable pace) {
        int n = labels.length;
        int k = Math.min(config.k(), n);
        int candidates = Math.min(n, k + TIE_MARGIN);
        int[] out = new int[queries.length];
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray bankT = manager.create(flatten(bankBlocks, 0, n), new Shape(n, dims)).transpose(); // [D, N]
            for (int from = 0; from < queries.length; from += TORCH_QUERY_BLOCK) {
                int q = Math.min(TORCH_QUERY_BLOCK, queries.length - from);
                float[][] block = new float[q][];
                for (int i = 0; i < q; i++) {
                    if (queries[from + i].length != dims) {
                        throw new IllegalArgumentException("query has " + queries[from + i].length
                                + " dims, the k-NN bank has " + dims);
                    }
                    block[i] = normalized(queries[from + i]);
                }
                float[] sims;
                long[] idx;
                try (NDManager scope = manager.newSubManager(); NDScope ignored = new NDScope()) {
                    NDArray s = scope.create(flatten(block, 0, q), new Shape(q, dims)).matMul(bankT); // [q, N]
                    NDList top = s.topK(candidates, 1, true, false);
                    sims = top.get(0).toFloatArray();
                    idx = top.get(1).toLongArray();
                }
                for (int i = 0; i < q; i++) {
                    out[from + i] = vote(sims, idx, i * candidates, candidates, k);
                }
                pace.run();
            }
        }
        return out;
    }

    /** The k strongest of one query's candidates (by similarity, then lower index) vote with exp(sim / T). */
    private int vote(float[] sims, long[] idx, int offset, int candidates, int k) {
        Integer[] order = new Integer[candidates];
        Arrays.setAll(order, m -> offset + m);
        Arrays.sort(order, (a, b) -> sims[a] != sims[b] ? Float.compare(sims[b], sims[a]) : Long.compare(idx[a], idx[b]));
        double[] votes = new double[classes];
        for (int m = 0; m < k; m++) {
            int c = order[m];
            votes[labels[(int) idx[c]]] += Math.exp(sims[c] / config.temperature());
        }
        return LinearModel.argmax(votes);
    }

    private static float[] flatten(float[][] rows, int from, int to) {
        int d = rows[from].length;
        float[] flat = new float[(to - from) * d];
        for (int i = from; i < to; i++) {
            System.arraycopy(rows[i], 0, flat, (i - from) * d, d);
        }
        return flat;
    }

    /** Top-1 accuracy on [Q, D] features with [Q] labels. */
    public double accuracy(float[][] features, int[] labels) {
        return accuracy(features, labels, () -> { });
    }

    /** The same, calling {@code pace} after each block of queries. */
    public double accuracy(float[][] features, int[] labels, Runnable pace) {
        Features.checkMatrix(features, "test features");
        Features.checkLabels(labels, features.length, classes, "test labels");
        return Features.accuracy(predict(features, pace), labels);
    }

    // ---- a min-heap of (similarity, index) ordered by "weaker first": lower similarity, then higher index ----

    private static boolean stronger(float simA, int idxA, float simB, int idxB) {
        return simA > simB || (simA == simB && idxA < idxB);
    }

    private static void siftUp(float[] sim, int[] idx, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!stronger(sim[parent], idx[parent], sim[i], idx[i])) {
                return;
            }
            swap(sim, idx, i, parent);
            i = parent;
        }
    }

    private static void siftDown(float[] sim, int[] idx, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int weakest = i;
            if (l < size && stronger(sim[weakest], idx[weakest], sim[l], idx[l])) {
                weakest = l;
            }
            if (r < size && stronger(sim[weakest], idx[weakest], sim[r], idx[r])) {
                weakest = r;
            }
            if (weakest == i) {
                return;
            }
            swap(sim, idx, i, weakest);
            i = weakest;
        }
    }

    private static void swap(float[] sim, int[] idx, int a, int b) {
        float s = sim[a];
        sim[a] = sim[b];
        sim[b] = s;
        int t = idx[a];
        idx[a] = idx[b];
        idx[b] = t;
    }
}
