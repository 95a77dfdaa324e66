package dev.d2v.train.mask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.train.config.MaskKind;
import dev.d2v.train.config.MaskingConfig;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class MaskingTest {

    private static final long[] KEYS = {11, 22, 33};

    @Test
    void blockAroundACentreIsClampedToTheGrid() {
        // 4x5 grid, 3x3 block at centre (0, 0): rows 0..1, cols 0..1
        boolean[] m = new boolean[20];
        Masking.markBlock(m, 5, 20, 0, 3, 3);
        assertThat(trueIndices(m)).containsExactly(0, 1, 5, 6);
        // centre (2, 3) = index 13: rows 1..3, cols 2..4
        boolean[] n = new boolean[20];
        Masking.markBlock(n, 5, 20, 13, 3, 3);
        assertThat(trueIndices(n)).containsExactly(7, 8, 9, 12, 13, 14, 17, 18, 19);
        // on a line of valid length 6, a 5-span around 4 covers 2..5, not the padding at 6
        boolean[] line = new boolean[8];
        Masking.markBlock(line, 8, 6, 4, 1, 5);
        assertThat(trueIndices(line)).containsExactly(2, 3, 4, 5);
    }

    @Test
    void fixCountReachesTheTargetBothWays() {
        boolean[] surplus = {true, true, true, true, false, true};
        Masking.fixCount(surplus, 5, 2, new SplittableRandom(1));
        assertThat(trueIndices(surplus)).hasSize(3).contains(5); // 2 within the valid 5, position 5 untouched
        boolean[] deficit = new boolean[10];
        Masking.fixCount(deficit, 10, 7, new SplittableRandom(1));
        assertThat(trueIndices(deficit)).hasSize(7);
    }

    @Test
    void idsFollowTheStableOrder() {
        boolean[] masked = {false, true, false, true, true};
        assertThat(Masking.idsKeep(masked, 2)).containsExactly(0, 2);
        // order [visible 0, 2 ; masked 1, 3, 4] -> rank of each token
        assertThat(Masking.idsRestore(masked)).containsExactly(0, 2, 1, 3, 4);
    }

    @Test
    void imageRowsKeepExactlyTheSameCount() {
        MaskingConfig c = MaskingConfig.reference(Modality.IMAGE); // 0.8 masked, 3x3 keep-blocks
        MaskBatch b = Masking.forBatch(c, 14, 196, 7, 3, KEYS, null, 16);
        assertThat(b.rows()).isEqualTo(48);
        int keep = (int) Math.floor(196 * 0.2 + 1e-9); // 39
        assertThat(b.keep()).hasSize(48).containsOnly(keep);
        assertThat(b.uniform()).isTrue();
        assertThat(b.fillWidth()).isEqualTo(196 - keep);
        for (int r = 0; r < b.rows(); r++) {
            assertThat(countFalse(b.masked()[r])).isEqualTo(keep);
            assertThat(b.idsKeep()[r]).isSorted().hasSize(keep);
            assertIsPermutation(b.idsRestore()[r]);
        }
        assertThat(b.lossCount()).isEqualTo(48L * (196 - keep));
    }

    @Test
    void inverseBlockMasksKeepBlockShapedRegions() {
        // kept tokens should mostly have a kept 4-neighbour, far more than a random mask would give
        MaskingConfig block = MaskingConfig.reference(Modality.IMAGE);
        MaskingConfig random = new MaskingConfig(MaskKind.RANDOM, 0.8, 1, 0, false);
        double blocky = neighbourFraction(Masking.forBatch(block, 14, 196, 1, 1, KEYS, null, 8), 14);
        double scattered = neighbourFraction(Masking.forBatch(random, 1, 196, 1, 1, KEYS, null, 8), 14);
        assertThat(blocky).isGreaterThan(scattered + 0.3);
    }

    @Test
    void masksReplayFromSeedStepAndSample() {
        MaskingConfig c = MaskingConfig.reference(Modality.AUDIO);
        MaskBatch a = Masking.forBatch(c, 1, 50, 42, 100, KEYS, null, 2);
        MaskBatch again = Masking.forBatch(c, 1, 50, 42, 100, KEYS, null, 2);
        MaskBatch nextStep = Masking.forBatch(c, 1, 50, 42, 101, KEYS, null, 2);
        // sample 22 alone in a batch gets the rows it had in the full batch
        MaskBatch alone = Masking.forBatch(c, 1, 50, 42, 100, new long[] {22}, null, 2);
        assertThat(a.masked()).isDeepEqualTo(again.masked());
        assertThat(Arrays.deepEquals(a.masked(), nextStep.masked())).isFalse();
        assertThat(alone.masked()[0]).isEqualTo(a.masked()[2]);
        assertThat(alone.masked()[1]).isEqualTo(a.masked()[3]);
        assertThat(a.masked()[2]).isNotEqualTo(a.masked()[3]); // clones differ
    }

    @Test
    void paddingIsNeverVisibleAndNeverInTheLoss() {
        MaskingConfig c = MaskingConfig.reference(Modality.AUDIO); // 0.5 masked, spans of 5
        int[] valid = {40, 25, 32};
        MaskBatch b = Masking.forBatch(c, 1, 40, 5, 9, KEYS, valid, 3);
        for (int r = 0; r < b.rows(); r++) {
            int v = valid[r / 3];
            int keep = (int) Math.floor(v * 0.5); // from the row's own length
            assertThat(b.keep()[r]).isEqualTo(keep);
            assertThat(countFalse(b.masked()[r])).isEqualTo(keep);
            for (int t = v; t < 40; t++) {
                assertThat(b.masked()[r][t]).isTrue();
                assertThat(b.lossMask()[r][t]).isFalse();
            }
            assertThat(trueIndices(b.lossMask()[r])).hasSize(v - keep);
            assertThat(b.idsKeep()[r][keep - 1]).isLessThan(v);
        }
    }

    @Test
    void textMasksAreRandomWithExactCounts() {
        MaskingConfig c = MaskingConfig.reference(Modality.TEXT);
        int[] valid = {64, 64, 50};
        MaskBatch b = Masking.forBatch(c, 1, 64, 3, 0, KEYS, valid, 1);
        for (int r = 0; r < b.rows(); r++) {
            assertThat(countFalse(b.masked()[r])).isEqualTo((int) Math.floor(valid[r] * 0.52));
        }
    }

    /**
     * Each row keeps the configured ratio of its own valid length, not of the batch's shortest: at mask_ratio 0.6 a
     * 4-token row keeps 1 and a 40-token row 16. The visible tensor is 16 wide; the short row's 15 extra slots repeat
     * its visible position, and its restore indices skip them.
     */
    @Test
    void rowsKeepTheRatioOfTheirOwnValidLength() {
        MaskingConfig c = new MaskingConfig(MaskKind.RANDOM, 0.6, 1, 0, false);
        MaskBatch b = Masking.forBatch(c, 1, 40, 7, 2, new long[] {11, 22}, new int[] {4, 40}, 2);
        assertThat(b.keep()).containsExactly(1, 1, 16, 16);
        assertThat(b.maxKeep()).isEqualTo(16);
        assertThat(b.uniform()).isFalse();
        assertThat(b.fillWidth()).isEqualTo(39);
        assertThat(b.lossCount()).isEqualTo(2 * (3 + 24));
        for (int r = 0; r < 2; r++) {
            int[] ids = b.idsKeep()[r];
            assertThat(ids).hasSize(16);
            assertThat(ids[0]).isLessThan(4).isEqualTo(trueIndices(not(b.masked()[r]))[0]);
            assertThat(IntStream.of(ids).distinct().toArray()).containsExactly(ids[0]);
            int[] restore = b.idsRestore()[r];
            assertThat(restore[ids[0]]).isZero();
            // masked tokens read the fill after the 16 visible slots: 16, 17, ... 54
            assertThat(IntStream.range(0, 40).filter(t -> t != ids[0]).map(t -> restore[t]).toArray())
                    .containsExactly(IntStream.range(16, 55).toArray());
        }
        for (int r = 2; r < 4; r++) {
            assertThat(countFalse(b.masked()[r])).isEqualTo(16);
            assertThat(b.idsKeep()[r]).isSorted().doesNotHaveDuplicates().hasSize(16);
            assertIsPermutation(b.idsRestore()[r]);
        }
        // the same rows alone in a batch get the same masks: the count no longer depends on the other rows
        MaskBatch alone = Masking.forBatch(c, 1, 40, 7, 2, new long[] {22}, new int[] {40}, 2);
        assertThat(alone.masked()[0]).isEqualTo(b.masked()[2]);
        assertThat(alone.idsKeep()[1]).isEqualTo(b.idsKeep()[3]);
    }

    @Test
    void restoreIndicesPointPastTheVisibleWidth() {
        boolean[] masked = {true, false, true, true};
        assertThat(Masking.idsKeep(masked, 1, 3)).containsExactly(1, 1, 1);
        // [visible slots 0..2 ; fill 3..] : token 1 reads slot 0, the masked tokens 0, 2, 3 read fill 3, 4, 5
        assertThat(Masking.idsRestore(masked, 3)).containsExactly(3, 0, 4, 5);
        assertThat(Masking.idsRestore(masked, 1)).isEqualTo(Masking.idsRestore(masked));
    }

    private static boolean[] not(boolean[] m) {
        boolean[] out = new boolean[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = !m[i];
        }
        return out;
    }

    private static double neighbourFraction(MaskBatch b, int side) {
        int withNeighbour = 0;
        int kept = 0;
        for (boolean[] m : b.masked()) {
            for (int t = 0; t < m.length; t++) {
                if (m[t]) {
                    continue;
                }
                kept++;
                int r = t / side;
                int col = t % side;
                boolean n = (col > 0 && !m[t - 1]) || (col < side - 1 && !m[t + 1])
                        || (r > 0 && !m[t - side]) || (r < side - 1 && !m[t + side]);
                withNeighbour += n ? 1 : 0;
            }
        }
        return (double) withNeighbour / kept;
    }

    private static void assertIsPermutation(int[] ids) {
        int[] sorted = ids.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertThat(sorted[i]).isEqualTo(i);
        }
    }

    static int[] trueIndices(boolean[] m) {
        return IntStream.range(0, m.length).filter(i -> m[i]).toArray();
    }

    static int countFalse(boolean[] m) {
        int n = 0;
        for (boolean b : m) {
            n += b ? 0 : 1;
        }
        return n;
    }
}
