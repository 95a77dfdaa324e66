package dev.d2v.train.step;

import java.util.Arrays;

/**
 * Short padded sequences packed one after another into fewer full rows. The reference pretrains text on the corpus
 * cut into full blocks (fairseq masked_lm, {@code sample_break_mode: none}): every position is a real token and a
 * token sees its neighbours' texts. One padded row per text instead spends most of a step on padding (WordNet glosses:
 * median 12 of 64 positions) and ties each position to a place in a short text, which a fast teacher learns to
 * encode instead of the content. Each text keeps its own [CLS] ... [SEP]; packed texts attend to each other.
 */
public final class RowPacking {

    private RowPacking() {
    }

    /**
     * Packed rows: {@code ids} (rows x width, row-major, 0 after a row's last text), {@code valid} (rows) real tokens
     * per row, {@code keys} (rows) the key of each row's first text (the row's mask seed), {@code samples} texts in.
     */
    public record Packed(int[] ids, int rows, int width, int[] valid, long[] keys, int samples) {
    }

    /**
     * Greedy in batch order: text i joins the current row when it fits into what is left of it, else it opens a new
     * row. Order is kept, so a batch packs the same way on every replay.
     *
     * @param ids     (B x width) row-major token ids, text i in its first lengths[i] positions
     * @param lengths (B) real tokens per text, 1..width
     * @param keys    (B) the texts' stable keys
     */
    public static Packed pack(int[] ids, int width, int[] lengths, long[] keys) {
        int b = lengths.length;
        if (ids.length != (long) b * width || keys.length != b) {
            throw new IllegalArgumentException("pack: " + ids.length + " ids, " + keys.length + " keys for " + b
                    + " rows of " + width);
        }
        int[] out = new int[ids.length];
        int[] valid = new int[b];
        long[] rowKeys = new long[b];
        int rows = 0;
        for (int i = 0; i < b; i++) {
            int len = lengths[i];
            if (len < 1 || len > width) {
                throw new IllegalArgumentException("pack: text " + i + " has " + len + " tokens, rows hold 1.." + width);
            }
            if (rows == 0 || valid[rows - 1] + len > width) {
                rowKeys[rows++] = keys[i];
            }
            int r = rows - 1;
            System.arraycopy(ids, i * width, out, r * width + valid[r], len);
            valid[r] += len;
        }
        return new Packed(Arrays.copyOf(out, rows * width), rows, width, Arrays.copyOf(valid, rows),
                Arrays.copyOf(rowKeys, rows), b);
    }
}
