package dev.d2v.evaluate.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawFeaturesTest {

    @TempDir
    Path dir;

    private static Minibatch batch(Modality m, DType t, int[] shape, int[] valid, int[] labels, byte[] payload) {
        List<String> ids = IntStream.range(0, shape[0]).mapToObj(i -> m.id() + "-" + i).toList();
        return new Minibatch(m, t, shape, ids, valid, labels, false, 42L, 0L, payload);
    }

    private static Minibatch text(int[][] rows, int[] valid) {
        int len = rows[0].length;
        ByteBuffer buf = ByteBuffer.allocate(rows.length * len * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] r : rows) {
            for (int id : r) {
                buf.putInt(id);
            }
        }
        return batch(Modality.TEXT, DType.INT32, new int[] {rows.length, len}, valid, new int[rows.length], buf.array());
    }

    @Test
    void imagePixelsAreScaledAsTheModelInput() {
        byte[] px = {0, (byte) 255, (byte) 51, (byte) 204, 0, 0, 0, (byte) 255};
        FeatureSet f = RawFeatures.of(List.of(batch(Modality.IMAGE, DType.UINT8, new int[] {2, 1, 2, 2},
                new int[] {1, 1}, new int[] {3, 5}, px)));
        // (x / 255 - 0.5) / 0.5: 0 -> -1, 255 -> 1, 51 -> -0.6, 204 -> 0.6
        assertThat(f.features()[0]).containsExactly(new float[] {-1f, 1f, -0.6f, 0.6f}, within(1e-6f));
        assertThat(f.features()[1]).containsExactly(new float[] {-1f, -1f, -1f, 1f}, within(1e-6f));
        assertThat(f.labels()).containsExactly(3, 5);
    }

    @Test
    void audioIsTheMeanAndStdOfEachBandOverTheValidFrames() {
        // (B=1, T=4, mels=2), frame-major; 3 valid frames, the 4th is padding with a value that would show
        float[] v = {1, 10, 3, 10, 5, 40, 100, 100};
        Minibatch b = batch(Modality.AUDIO, DType.FP16, new int[] {1, 4, 2}, new int[] {3}, null,
                Minibatch.fp16Bytes(v));
        float[] f = RawFeatures.of(List.of(b)).features()[0];
        // band 0: 1, 3, 5 -> mean 3, std sqrt(8/3); band 1: 10, 10, 40 -> mean 20, std sqrt(200)
        assertThat(f).containsExactly(new float[] {3f, 20f, (float) Math.sqrt(8.0 / 3), (float) Math.sqrt(200)},
                within(1e-4f));
        assertThat(RawFeatures.of(List.of(b)).labels()).containsExactly(-1); // unlabeled batch
    }

    @Test
    void textIsAnL2NormalisedLogCountBagOfTheValidIds() {
        int w = RawFeatures.TEXT_WIDTH;
        // [CLS] 7 7 (7 + w) [SEP] [PAD] and [CLS] 9 11 [SEP] 9 9 with only 4 valid (the last two 9s are past the end)
        FeatureSet f = RawFeatures.of(List.of(text(new int[][] {{2, 7, 7, 7 + w, 3, 0}, {2, 9, 11, 3, 9, 9}},
                new int[] {5, 4})));
        assertThat(f.dims()).isEqualTo(w);
        float[] a = f.features()[0];
        assertThat(a[7]).isEqualTo(1f, within(1e-6f)); // one bucket (7 and 7 + w share it), count 3: log 4, normalised
        assertThat(a[RawFeatures.CLS]).isZero();
        assertThat(a[RawFeatures.SEP]).isZero();
        assertThat(a[RawFeatures.PAD]).isZero();
        float[] b = f.features()[1];
        float half = (float) Math.sqrt(0.5);
        assertThat(b[9]).isEqualTo(half, within(1e-6f));
        assertThat(b[11]).isEqualTo(half, within(1e-6f));
        double sum = 0;
        for (float x : b) {
            sum += x;
        }
        assertThat(sum).isEqualTo(2 * half, within(1e-5));
    }

    @Test
    void aSeparableImageTaskIsSolvedFromRawPixelsAndCachedOnce() throws Exception {
        List<Minibatch> train = halves(64, 1);
        List<Minibatch> test = halves(32, 2);
        FeatureCache cache = new FeatureCache(dir);
        String id = RawFeatures.cacheId(42L);
        assertThat(id).isEqualTo("raw-features-v" + RawFeatures.VERSION + "-000000000000002a");
        AtomicInteger extractions = new AtomicInteger();
        FeatureCache.Extractor extract = () -> {
            extractions.incrementAndGet();
            return RawFeatures.of(train);
        };
        FeatureSet first = cache.get(new FeatureKey(id, Modality.IMAGE, "halves", "train"), extract);
        FeatureSet again = new FeatureCache(dir).get(new FeatureKey(id, Modality.IMAGE, "halves", "train"), extract);
        assertThat(extractions).hasValue(1);
        assertThat(again.contentEquals(first)).isTrue();

        List<EvalResult> r = FrozenFeatureProbes.run(id, 0, Modality.IMAGE, "halves", first, RawFeatures.of(test), 2,
                FrozenFeatureProbes.Config.defaults());
        assertThat(r).extracting(EvalResult::accuracy).allSatisfy(a -> assertThat(a).isEqualTo(1.0));
    }

    /** n 8x8 images, a bright 3x3 square in the left (label 0) or right (label 1) half, in batches of 16. */
    private static List<Minibatch> halves(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Minibatch> out = new ArrayList<>();
        for (int start = 0; start < n; start += 16) {
            int b = Math.min(16, n - start);
            byte[] px = new byte[b * 64];
            int[] labels = new int[b];
            for (int i = 0; i < b; i++) {
                labels[i] = (start + i) % 2;
                int x0 = labels[i] * 4 + r.nextInt(2);
                int y0 = r.nextInt(6);
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        boolean on = x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 3;
                        px[i * 64 + y * 8 + x] = (byte) (on ? 200 + r.nextInt(50) : r.nextInt(40));
                    }
                }
            }
            int[] valid = new int[b];
            Arrays.fill(valid, 1);
            out.add(batch(Modality.IMAGE, DType.UINT8, new int[] {b, 1, 8, 8}, valid, labels, px));
        }
        return out;
    }

    @Test
    void aBatchOfTheWrongKindIsRefused() {
        Minibatch ids = text(new int[][] {{2, 3}}, new int[] {2});
        Minibatch relabeled = new Minibatch(Modality.IMAGE, ids.dtype(), ids.shape(), ids.sampleIds(), ids.validLengths(),
                ids.labels(), false, 0, 0, ids.payload());
        assertThatThrownBy(() -> RawFeatures.of(List.of(relabeled)))
                .hasMessageContaining("image raw features need UINT8 batches of rank 4");
    }
}
