package dev.d2v.train.mask;

import dev.d2v.train.config.MaskKind;
import dev.d2v.train.config.MaskingConfig;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Mask generation (the data2vec 2.0 block masking, after fairseq examples/data2vec), plain Java. A row's mask is a pure function of (seed, step, sample key, clone):
 * replaying a batch at the same step gives the same masks whatever else is in the batch.
 *
 * <p>Padding (audio, text): a row masks only within its valid length, at the configured ratio of that length: it keeps
 * {@code keep_i = floor(valid_i * (1 - mask_ratio))} tokens (at least 1). Padded positions are always masked (never
 * visible) and never count in the loss. Rows of one batch therefore keep different counts: the student's visible
 * tensor is as wide as the longest row's keep, the shorter rows' extra slots are padding that attention excludes as
 * keys and the restore never reads ({@link MaskBatch}). The reference (fairseq examples/data2vec,
 * {@code compute_mask_indices} with {@code require_same_masks}) cuts every row to the batch's smallest mask count
 * instead and carries the padding inside the unmasked set under a key padding mask ({@code gather_unmasked_mask}); a
 * count shared by the batch lets its shortest row set every row's visible count (with one 4-token row, a 40-token row
 * at mask_ratio 0.6 would see 1 token instead of 16). Unpadded batches (images) keep one count in every row.
 */
public final class Masking {

    private Masking() {}

    /**
     * Masks for a batch of B samples cloned M times (N = B * M rows, row r = sample r / M, clone r % M).
     *
     * @param gridRows     H of the patch grid for BLOCK_2D (T = H * W); 1 for the 1-D kinds
     * @param tokens       T
     * @param sampleKeys   (B) stable per-sample keys, e.g. {@link #sampleKey(String)} of the sample ids
     * @param validLengths (B) valid tokens per sample, or null when nothing is padded
     */
    public static MaskBatch forBatch(MaskingConfig c, int gridRows, int tokens, long seed, long step,
                                     long[] sampleKeys, int[] validLengths, int clones) {
        checkGeometry(c, gridRows, tokens);
        int b = sampleKeys.length;
        if (validLengths != null && validLengths.length != b) {
            throw new IllegalArgumentException("validLengths has " + validLengths.length + " entries for " + b + " samples");
        }
        int n = b * clones;
        int[] keep = new int[n];
        for (int r = 0; r < n; r++) {
            int v = valid(validLengths, r / clones, tokens);
            if (v < 1 || v > tokens) {
                throw new IllegalArgumentException("sample " + r / clones + " valid length " + v + " is outside 1.." + tokens);
            }
            keep[r] = keepCount(v, c.maskRatio());
        }
        int width = 0;
        for (int k : keep) {
            width = Math.max(width, k);
        }
        boolean[][] masked = new boolean[n][];
        boolean[][] loss = new boolean[n][];
        int[][] idsKeep = new int[n][];
        int[][] idsRestore = new int[n][];
        for (int r = 0; r < n; r++) {
            int v = valid(validLengths, r / clones, tokens);
            SplittableRandom rnd = rowRandom(seed, step, sampleKeys[r / clones], r % clones);
            masked[r] = rowMask(c, gridRows, tokens, v, keep[r], rnd);
            loss[r] = lossMask(masked[r], v);
            idsKeep[r] = idsKeep(masked[r], keep[r], width);
            idsRestore[r] = idsRestore(masked[r], width);
        }
        return new MaskBatch(masked, loss, idsKeep, idsRestore, keep);
    }

    /** Visible tokens for valid length v: floor(v * (1 - ratio)), at least 1 so the student sees something. */
    public static int keepCount(int validLength, double maskRatio) {
        return Math.max(1, (int) Math.floor(validLength * (1 - maskRatio) + 1e-9));
    }

    /**
     * One row's mask (T), true = masked, with exactly {@code keep} visible tokens, all inside [0, valid).
     * Blocks (len x len on an H x W grid, or len on a line) are drawn around n = floor(valid * (fraction + adjust)
     * / blockArea) uniform centres with replacement, clamped to the grid; they mark kept tokens when
     * inverse_mask, masked ones otherwise; then the count is forced by removing random surplus or adding random
     * deficit.
     */
    public static boolean[] rowMask(MaskingConfig c, int gridRows, int tokens, int valid, int keep, SplittableRandom rnd) {
        if (keep > valid) {
            throw new IllegalArgumentException("cannot keep " + keep + " of " + valid + " valid tokens");
        }
        int cols = tokens / gridRows;
        boolean[] blocks = drawBlocks(gridRows, cols, valid, c.blockRows(), c.blockLength(),
                c.blockFraction() + c.maskProbAdjust(), rnd);
        // blocks mark kept tokens (inverse) or masked ones: fix the count of what they mark within [0, valid)
        int target = c.inverseMask() ? keep : valid - keep;
        fixCount(blocks, valid, target, rnd);
        boolean[] masked = new boolean[tokens];
        for (int t = 0; t < tokens; t++) {
            masked[t] = t >= valid || (c.inverseMask() != blocks[t]);
        }
        return masked;
    }

    /**
     * (rows * cols) cells covered by blocks of blockRows x blockCols drawn around uniform centres among the first
     * {@code valid} cells (row-major); cells beyond valid are never marked. Block cells span [c - len/2, c - len/2 + len).
     */
    static boolean[] drawBlocks(int rows, int cols, int valid, int blockRows, int blockCols, double fraction,
                                SplittableRandom rnd) {
        boolean[] marked = new boolean[rows * cols];
        int centres = (int) Math.floor(valid * fraction / (blockRows * blockCols));
        for (int i = 0; i < centres; i++) {
            markBlock(marked, cols, valid, rnd.nextInt(valid), blockRows, blockCols);
        }
        return marked;
    }

    /** Marks the blockRows x blockCols block around centre (row-major index), clamped to the grid and to valid. */
    static void markBlock(boolean[] marked, int cols, int valid, int centre, int blockRows, int blockCols) {
        int rows = marked.length / cols;
        int r0 = centre / cols - blockRows / 2;
        int c0 = centre % cols - blockCols / 2;
        for (int r = Math.max(0, r0); r < Math.min(rows, r0 + blockRows); r++) {
            for (int col = Math.max(0, c0); col < Math.min(cols, c0 + blockCols); col++) {
                int t = r * cols + col;
                if (t < valid) {
                    marked[t] = true;
                }
            }
        }
    }

    /** Makes exactly target of the first valid cells true: clears random true cells or sets random false ones. */
    static void fixCount(boolean[] marked, int valid, int target, SplittableRandom rnd) {
        int count = 0;
        for (int t = 0; t < valid; t++) {
            count += marked[t] ? 1 : 0;
        }
        int flips = Math.abs(count - target);
        if (flips == 0) {
            return;
        }
        boolean from = count > target; // surplus: flip true -> false; deficit: false -> true
        int[] candidates = new int[valid];
        int m = 0;
        for (int t = 0; t < valid; t++) {
            if (marked[t] == from) {
                candidates[m++] = t;
            }
        }
        for (int i = 0; i < flips; i++) { // partial Fisher-Yates: a uniform subset of the candidates
            int j = i + rnd.nextInt(m - i);
            int tmp = candidates[i];
            candidates[i] = candidates[j];
            candidates[j] = tmp;
            marked[candidates[i]] = !from;
        }
    }

    /** (T) masked and inside the valid length. */
    static boolean[] lossMask(boolean[] masked, int valid) {
        boolean[] out = new boolean[masked.length];
        for (int t = 0; t < valid; t++) {
            out[t] = masked[t];
        }
        return out;
    }

    /** (keep) visible positions, ascending. */
    public static int[] idsKeep(boolean[] masked, int keep) {
        return idsKeep(masked, keep, keep);
    }

    /**
     * (width) the keep visible positions, ascending, then width - keep padding slots repeating the last visible
     * position (any in-range index would do: attention excludes those slots and the restore never reads them).
     */
    public static int[] idsKeep(boolean[] masked, int keep, int width) {
        if (width < keep) {
            throw new IllegalArgumentException("width " + width + " is less than the " + keep + " kept tokens");
        }
        int[] ids = new int[width];
        int k = 0;
        for (int t = 0; t < masked.length; t++) {
            if (!masked[t]) {
                if (k < keep) {
                    ids[k] = t;
                }
                k++;
            }
        }
        if (k != keep) {
            throw new IllegalStateException("row keeps " + k + " tokens, expected " + keep);
        }
        for (int j = keep; j < width; j++) {
            ids[j] = ids[keep - 1];
        }
        return ids;
    }

    /**
     * (T) idsRestore[t] = rank of token t in the stable order [visible ascending ; masked ascending]: the inverse of
     * the stable argsort of the mask (a non-stable argsort would shuffle equal keys between replays).
     */
    public static int[] idsRestore(boolean[] masked) {
        int visible = 0;
        for (boolean b : masked) {
            visible += b ? 0 : 1;
        }
        return idsRestore(masked, visible);
    }

    /**
     * (T) where token t is read from in [visible slots (width) ; fill]: a visible token's rank among the visible ones,
     * a masked token's width + its rank among the masked ones. The visible slots past a row's own count (padding of
     * the visible tensor) are never read. With width = the row's visible count this is {@link #idsRestore(boolean[])}.
     */
    public static int[] idsRestore(boolean[] masked, int width) {
        int[] restore = new int[masked.length];
        int v = 0;
        int m = width;
        for (int t = 0; t < masked.length; t++) {
            restore[t] = masked[t] ? m++ : v++;
        }
        if (v > width) {
            throw new IllegalArgumentException("row has " + v + " visible tokens, more than the width " + width);
        }
        return restore;
    }

    /** A row's generator, seeded from (seed, step, sample key, clone) by SplitMix64-style mixing. */
    public static SplittableRandom rowRandom(long seed, long step, long sampleKey, int clone) {
        long h = mix(seed);
        h = mix(h ^ step);
        h = mix(h ^ sampleKey);
        h = mix(h ^ clone);
        return new SplittableRandom(h);
    }

    /** Stable 64-bit key of a sample id (FNV-1a over UTF-8): equal ids give equal masks in a replay. */
    public static long sampleKey(String sampleId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : sampleId.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static long mix(long z) {
        z += 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static int valid(int[] validLengths, int sample, int tokens) {
        return validLengths == null ? tokens : validLengths[sample];
    }

    private static void checkGeometry(MaskingConfig c, int gridRows, int tokens) {
        if (gridRows < 1 || tokens % gridRows != 0) {
            throw new IllegalArgumentException("grid rows " + gridRows + " do not divide " + tokens + " tokens");
        }
        if (c.kind() != MaskKind.BLOCK_2D && gridRows != 1) {
            throw new IllegalArgumentException(c.kind() + " masks are 1-D: pass gridRows = 1, got " + gridRows);
        }
    }
}
