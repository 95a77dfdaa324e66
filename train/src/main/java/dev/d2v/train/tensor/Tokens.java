package dev.d2v.train.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Token-axis helpers for inverse masking. Results land in the manager of the first array argument (DJL's rule), so
 * call these inside the step's scope.
 */
public final class Tokens {

    /** Std of the fill at masked slots before the decoder (data2vec 2.0: N(0, 0.01^2)). */
    public static final float MASK_NOISE_STD = 0.01f;

    private Tokens() {}

    /** (N, K) int64 index array from plain rows, e.g. MaskBatch.idsKeep(). */
    public static NDArray indices(NDManager manager, int[][] rows) {
        int n = rows.length;
        int k = n == 0 ? 0 : rows[0].length;
        long[] flat = new long[n * k];
        for (int r = 0; r < n; r++) {
            if (rows[r].length != k) {
                throw new IllegalArgumentException("index row " + r + " has " + rows[r].length + " entries, row 0 has " + k);
            }
            for (int j = 0; j < k; j++) {
                flat[r * k + j] = rows[r][j];
            }
        }
        return manager.create(flat, new Shape(n, k));
    }

    /** (N, T) float 0/1 from a boolean mask, e.g. MaskBatch.lossMask(). */
    public static NDArray mask(NDManager manager, boolean[][] rows) {
        int n = rows.length;
        int t = n == 0 ? 0 : rows[0].length;
        float[] flat = new float[n * t];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < t; j++) {
                flat[r * t + j] = rows[r][j] ? 1f : 0f;
            }
        }
        return manager.create(flat, new Shape(n, t));
    }

    /** (B, T, D) -> (B * M, T, D): each sample repeated M times in place (row r = sample r / M). */
    public static NDArray repeatInterleave(NDArray x, int m) {
        return m == 1 ? x.duplicate() : x.repeat(0, m);
    }

    /** x (N, T, D), idsKeep (N, K) int64 -> (N, K, D): the visible tokens, in idsKeep order. */
    public static NDArray gatherVisible(NDArray x, NDArray idsKeep) {
        Shape s = x.getShape();
        checkRows(s, idsKeep.getShape());
        try (NDArray e = idsKeep.expandDims(2);
             NDArray index = e.broadcast(idsKeep.getShape().get(0), idsKeep.getShape().get(1), s.get(2))) {
            return x.gather(index, 1);
        }
    }

    /**
     * h (N, K, D), idsRestore (N, T) -> (N, T, D): h back at the visible slots, N(0, noiseStd^2) at the masked ones,
     * for rows that all keep K tokens. The noise comes from the engine's generator (seed it with Engine.setRandomSeed
     * for replays).
     */
    public static NDArray restore(NDArray h, NDArray idsRestore, float noiseStd) {
        return restore(h, idsRestore, idsRestore.getShape().get(1) - h.getShape().get(1), noiseStd);
    }

    /**
     * h (N, K, D), idsRestore (N, T) -> (N, T, D) with a fill of fillWidth tokens: T - K when every row keeps K
     * tokens, T minus the smallest row's count when rows keep different counts (h then has padding slots, which
     * idsRestore never points at). N(0, noiseStd^2) fill, drawn from the engine's generator.
     */
    public static NDArray restore(NDArray h, NDArray idsRestore, long fillWidth, float noiseStd) {
        Shape s = h.getShape();
        checkRows(s, idsRestore.getShape());
        Shape fillShape = new Shape(s.get(0), fillWidth, s.get(2));
        try (NDArray fill = noiseStd == 0f
                ? h.getManager().zeros(fillShape, h.getDataType())
                : h.getManager().randomNormal(0f, noiseStd, fillShape, h.getDataType())) {
            return restore(h, fill, idsRestore);
        }
    }

    /**
     * h (N, K, D), fill (N, F, D), idsRestore (N, T) -> (N, T, D) = gather([h ; fill], idsRestore) on axis 1; K + F
     * is T when every row keeps K tokens, more when rows keep different counts.
     */
    public static NDArray restore(NDArray h, NDArray fill, NDArray idsRestore) {
        Shape s = h.getShape();
        Shape r = idsRestore.getShape();
        try (NDArray all = NDArrays.concat(new NDList(h, fill), 1);
             NDArray e = idsRestore.expandDims(2);
             NDArray index = e.broadcast(r.get(0), r.get(1), s.get(2))) {
            if (all.getShape().get(1) < r.get(1)) {
                throw new IllegalArgumentException("visible " + s.get(1) + " + fill " + fill.getShape().get(1)
                        + " tokens < idsRestore length " + r.get(1));
            }
            return all.gather(index, 1);
        }
    }

    private static void checkRows(Shape x, Shape ids) {
        if (x.dimension() != 3 || ids.dimension() != 2 || x.get(0) != ids.get(0)) {
            throw new IllegalArgumentException("expected x (N, T, D) and ids (N, K) with equal N, got " + x + " and " + ids);
        }
    }
}
