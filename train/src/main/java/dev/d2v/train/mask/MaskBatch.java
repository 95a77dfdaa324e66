package dev.d2v.train.mask;

/**
 * Masks for one modality batch of N = B * M rows (row r is clone r % M of sample r / M) over T tokens.
 * Row r keeps {@code keep[r]} tokens, the configured ratio of its own valid length; the student gathers them into a
 * dense (N, K, D) tensor, K = {@link #maxKeep()}, whose slots past a row's own count are padding that attention must
 * exclude as keys. Without padding every row keeps the same count and K is that count.
 *
 * @param masked      (N, T): true = the student does not see token t (padding included)
 * @param lossMask    (N, T): masked and inside the row's valid length: where the regression loss counts
 * @param idsKeep     (N, K): a row's visible positions, ascending, then K - keep[r] padding slots repeating the last
 * @param idsRestore  (N, T): where token t is read from in [visible slots (K) ; fill (T - {@link #minKeep()})]: a
 *                    visible token's rank among the visible ones, a masked token's K + its rank among the masked
 *                    ones; with equal counts the inverse of the stable argsort of the mask
 * @param keep        (N) visible tokens per row
 */
public record MaskBatch(boolean[][] masked, boolean[][] lossMask, int[][] idsKeep, int[][] idsRestore, int[] keep) {

    public int rows() {
        return masked.length;
    }

    public int tokens() {
        return masked.length == 0 ? 0 : masked[0].length;
    }

    /** K: the width of the visible tensor, the largest row's visible count. */
    public int maxKeep() {
        int k = 0;
        for (int v : keep) {
            k = Math.max(k, v);
        }
        return k;
    }

    /** The smallest row's visible count: the fill the restore needs is T minus this. */
    public int minKeep() {
        int k = Integer.MAX_VALUE;
        for (int v : keep) {
            k = Math.min(k, v);
        }
        return keep.length == 0 ? 0 : k;
    }

    /** Every row keeps the same count: the visible tensor has no padding slots. */
    public boolean uniform() {
        return minKeep() == maxKeep();
    }

    /** Width of the fill the restore appends after the K visible slots: T - {@link #minKeep()}. */
    public int fillWidth() {
        return tokens() - minKeep();
    }

    /** Masked-and-valid tokens over all rows: the loss's denominator. */
    public long lossCount() {
        long n = 0;
        for (boolean[] row : lossMask) {
            for (boolean b : row) {
                n += b ? 1 : 0;
            }
        }
        return n;
    }
}
