package dev.d2v.train.mask;

/**
 * Masks for one modality batch of N = B * M rows (row r is clone r % M of sample r / M) over T tokens.
 * Every row keeps exactly {@code keep} tokens, which is what lets the student gather a dense (N, keep, D) input.
 *
 * @param masked      (N, T): true = the student does not see token t (padding included)
 * @param lossMask    (N, T): masked and inside the row's valid length: where the regression loss counts
 * @param idsKeep     (N, keep): visible positions, ascending
 * @param idsRestore  (N, T): position of token t in the order [visible ascending ; masked ascending], i.e. the
 *                    stable argsort of the mask inverted; gather([h ; fill], idsRestore) puts tokens back
 * @param keep        visible tokens per row
 */
public record MaskBatch(boolean[][] masked, boolean[][] lossMask, int[][] idsKeep, int[][] idsRestore, int keep) {

    public int rows() {
        return masked.length;
    }

    public int tokens() {
        return masked.length == 0 ? 0 : masked[0].length;
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
