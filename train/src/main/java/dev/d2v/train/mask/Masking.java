package dev.d2v.train.mask;

import dev.d2v.train.config.MaskKind;
import dev.d2v.train.config.MaskingConfig;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Mask generation (the data2vec 2.0 block masking, after fairseq examples/data2vec), plain Java. A row's mask is a pure function of (seed, step, sample key, clone):
 * replaying a batch at the same step gives the same masks whatever else is in the batch.
 *
 * <p>Padding (audio, text): a row masks only within its valid length; padded positions are always masked (never
 * visible) and never count in the loss. To keep the visible count equal across rows, every row keeps
 * {@code keep = floor(minValid * (1 - mask_ratio))} tokens, minValid being the batch's shortest valid length: rows
 * longer than the shortest are masked a little more than mask_ratio. Batching by length keeps that small.
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
        int minValid = tokens;
        for (int i = 0; i < b; i++) {
            int v = valid(validLengths, i, tokens);
            if (v < 1 || v > tokens) {
                throw new IllegalArgumentException("sample " + i + " valid length " + v + " is outside 1.." + tokens);
            }
            minValid = Math.min(minValid, v);
        }
        int keep = keepCount(minValid, c.maskRatio());
        int n = b * clones;
        boolean[][] masked = new boolean[n][];
        boolean[][] loss = new boolean[n][];
        int[][] idsKeep = new int[n][];
        int[][] idsRestore = new int[n][];
        for (int r = 0; r < n; r++) {
            int v = valid(validLengths, r / clones, tokens);
            SplittableRandom rnd = rowRandom(seed, step, sampleKeys[r / clones], r % clones);
            masked[r] = rowMask(c, gridRows, tokens, v, keep, rnd);
            loss[r] = lossMask(masked[r], v);
            idsKeep[r] = idsKeep(masked[r], keep);
            idsRestore[r] = idsRestore(masked[r]);
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
        int[] ids = new int[keep];
        int k = 0;
        for (int t = 0; t < masked.length; t++) {
            if (!masked[t]) {
                ids[k++] = t;
            }
        }
        if (k != keep) {
            throw new IllegalStateException("row keeps " + k + " tokens, expected " + keep);
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
        int[] restore = new int[masked.length];
        int v = 0;
        int m = visible;
        for (int t = 0; t < masked.length; t++) {
            restore[t] = masked[t] ? m++ : v++;
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
