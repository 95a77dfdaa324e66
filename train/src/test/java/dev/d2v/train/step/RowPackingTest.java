package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RowPackingTest {

    /** Width 6; texts of 3, 2, 4, 6 and 1 tokens: rows [3+2], [4], [6], [1] (the 1 does not go back into row 0). */
    @Test
    void packsGreedilyInOrder() {
        int w = 6;
        int[] ids = {
            11, 12, 13, 0, 0, 0,
            21, 22, 0, 0, 0, 0,
            31, 32, 33, 34, 0, 0,
            41, 42, 43, 44, 45, 46,
            51, 0, 0, 0, 0, 0};
        RowPacking.Packed p = RowPacking.pack(ids, w, new int[] {3, 2, 4, 6, 1}, new long[] {1, 2, 3, 4, 5});
        assertThat(p.rows()).isEqualTo(4);
        assertThat(p.samples()).isEqualTo(5);
        assertThat(p.valid()).containsExactly(5, 4, 6, 1);
        assertThat(p.keys()).containsExactly(1L, 3L, 4L, 5L);
        assertThat(p.ids()).containsExactly(
                11, 12, 13, 21, 22, 0,
                31, 32, 33, 34, 0, 0,
                41, 42, 43, 44, 45, 46,
                51, 0, 0, 0, 0, 0);
    }

    @Test
    void everyTokenOfEveryTextIsKeptOnce() {
        int w = 8;
        int b = 50;
        int[] lengths = new int[b];
        int[] ids = new int[b * w];
        long[] keys = new long[b];
        int total = 0;
        for (int i = 0; i < b; i++) {
            lengths[i] = 1 + (i * 7) % w;
            keys[i] = i;
            for (int j = 0; j < lengths[i]; j++) {
                ids[i * w + j] = 1000 * (i + 1) + j;
            }
            total += lengths[i];
        }
        RowPacking.Packed p = RowPacking.pack(ids, w, lengths, keys);
        long nonZero = java.util.Arrays.stream(p.ids()).filter(x -> x != 0).count();
        assertThat(nonZero).isEqualTo(total);
        assertThat(java.util.Arrays.stream(p.valid()).sum()).isEqualTo(total);
        assertThat(p.rows()).isLessThan(b).isGreaterThanOrEqualTo((total + w - 1) / w);
    }

    @Test
    void refusesATextLongerThanARow() {
        assertThatThrownBy(() -> RowPacking.pack(new int[4], 4, new int[] {5}, new long[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows hold 1..4");
    }
}
