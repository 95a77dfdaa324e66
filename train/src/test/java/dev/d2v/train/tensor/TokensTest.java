package dev.d2v.train.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.MaskingConfig;
import dev.d2v.train.mask.Masking;
import org.junit.jupiter.api.Test;

class TokensTest {

    @Test
    void gatherPicksVisibleTokensAndRestorePutsThemBack() {
        try (NDManager m = NDManager.newBaseManager()) {
            // x (2, 4, 2): x[r, t, d] = 10 * r + t + 0.5 * d
            float[] v = new float[16];
            for (int r = 0; r < 2; r++) for (int t = 0; t < 4; t++) for (int d = 0; d < 2; d++) v[r * 8 + t * 2 + d] = 10 * r + t + 0.5f * d;
            NDArray x = m.create(v, new Shape(2, 4, 2));
            boolean[][] masked = {{false, true, false, true}, {true, true, false, false}};
            int[][] keep = {Masking.idsKeep(masked[0], 2), Masking.idsKeep(masked[1], 2)};
            int[][] restore = {Masking.idsRestore(masked[0]), Masking.idsRestore(masked[1])};
            NDArray vis = Tokens.gatherVisible(x, Tokens.indices(m, keep));
            assertThat(vis.getShape()).isEqualTo(new Shape(2, 2, 2));
            // row 0 keeps t = 0, 2; row 1 keeps t = 2, 3
            assertThat(vis.toFloatArray()).containsExactly(0f, 0.5f, 2f, 2.5f, 12f, 12.5f, 13f, 13.5f);
            NDArray back = Tokens.restore(vis, Tokens.indices(m, restore), 0f);
            // visible slots hold the originals, masked slots the (zero) fill
            assertThat(back.toFloatArray()).containsExactly(0f, 0.5f, 0f, 0f, 2f, 2.5f, 0f, 0f, 0f, 0f, 0f, 0f, 12f, 12.5f, 13f, 13.5f);
        }
    }

    @Test
    void restoreFillsMaskedSlotsWithSmallNoise() {
        try (NDManager m = NDManager.newBaseManager()) {
            boolean[][] masked = new boolean[4][];
            for (int r = 0; r < 4; r++) masked[r] = Masking.rowMask(MaskingConfig.reference(Modality.TEXT), 1, 100, 100, 52, Masking.rowRandom(1, 2, r, 0));
            int[][] keep = new int[4][];
            int[][] restore = new int[4][];
            for (int r = 0; r < 4; r++) { keep[r] = Masking.idsKeep(masked[r], 52); restore[r] = Masking.idsRestore(masked[r]); }
            NDArray h = m.ones(new Shape(4, 52, 64)).muli(5);
            NDArray z = Tokens.restore(h, Tokens.indices(m, restore), Tokens.MASK_NOISE_STD);
            float[] zv = z.toFloatArray();
            double sum = 0, sq = 0;
            int n = 0;
            for (int r = 0; r < 4; r++) for (int t = 0; t < 100; t++) for (int d = 0; d < 64; d++) {
                float val = zv[(r * 100 + t) * 64 + d];
                if (masked[r][t]) { sum += val; sq += val * val; n++; } else { assertThat(val).isEqualTo(5f); }
            }
            assertThat(n).isEqualTo(4 * 48 * 64);
            assertThat(sum / n).isCloseTo(0, within(0.002));
            assertThat(Math.sqrt(sq / n)).isCloseTo(0.01, within(0.001));
            // gathering the visible slots again gives h back exactly
            assertThat(Tokens.gatherVisible(z, Tokens.indices(m, keep)).toFloatArray()).isEqualTo(h.toFloatArray());
        }
    }

    @Test
    void repeatInterleaveKeepsClonesAdjacent() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 1, 2));
            NDArray y = Tokens.repeatInterleave(x, 3);
            assertThat(y.getShape()).isEqualTo(new Shape(6, 1, 2));
            assertThat(y.toFloatArray()).containsExactly(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4);
        }
    }
}
