package dev.d2v.evaluate.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureCacheTest {
    private static final FeatureKey KEY = new FeatureKey("step-000001200", Modality.IMAGE, "fashion-mnist", "train");

    @TempDir
    Path dir;

    private static FeatureSet random(int rows, int dims, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[rows][dims];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(10);
            for (int j = 0; j < dims; j++) {
                x[i][j] = (float) r.nextGaussian();
            }
        }
        x[0][0] = Float.NaN; // stored bit for bit, even values the probes would refuse
        x[0][1] = -0f;
        return new FeatureSet(x, y);
    }

    /** An extractor that counts its calls. */
    private static final class Counting implements FeatureCache.Extractor {
        final AtomicInteger calls = new AtomicInteger();
        final FeatureSet result;

        Counting(FeatureSet result) {
            this.result = result;
        }

        @Override
        public FeatureSet extract() {
            calls.incrementAndGet();
            return result;
        }
    }

    @Test
    void secondRequestHitsTheCacheAlsoFromANewInstance() throws IOException {
        FeatureSet features = random(300, 48, 1);
        Counting extractor = new Counting(features);
        FeatureCache cache = new FeatureCache(dir);

        FeatureSet first = cache.get(KEY, extractor);
        FeatureSet second = cache.get(KEY, extractor);
        assertThat(extractor.calls).hasValue(1);
        assertThat(second.contentEquals(features)).isTrue();
        assertThat(first).isSameAs(features);
        assertThat(cache.stats()).isEqualTo(new FeatureCache.Stats(1, 1, 0));
        assertThat(cache.path(KEY)).isEqualTo(dir.resolve("step-000001200/image/fashion-mnist/train.d2vf"));
        assertThat(Files.size(cache.path(KEY))).isEqualTo(4 + 2 + 2 + KEY.describe().length() + 8 + 4 * 300 + 4 * 300 * 48 + 4);

        FeatureCache reopened = new FeatureCache(dir); // a restarted evaluator
        assertThat(reopened.get(KEY, extractor).contentEquals(features)).isTrue();
        assertThat(extractor.calls).hasValue(1);
        assertThat(reopened.stats().hits()).isEqualTo(1);
    }

    @Test
    void keysAreKeptApart() throws IOException {
        FeatureCache cache = new FeatureCache(dir);
        FeatureKey test = new FeatureKey(KEY.checkpointId(), KEY.modality(), KEY.task(), "test");
        FeatureKey other = new FeatureKey("random-init", KEY.modality(), KEY.task(), "train");
        FeatureKey odd = new FeatureKey("step-1", Modality.TEXT, "my data/../x y", "train");
        cache.get(KEY, new Counting(random(5, 3, 1)));
        cache.get(test, new Counting(random(6, 3, 2)));
        cache.get(other, new Counting(random(7, 3, 3)));
        cache.get(odd, new Counting(random(8, 3, 4)));
        assertThat(cache.get(KEY, new Counting(null)).rows()).isEqualTo(5);
        assertThat(cache.get(test, new Counting(null)).rows()).isEqualTo(6);
        assertThat(cache.get(other, new Counting(null)).rows()).isEqualTo(7);
        assertThat(cache.get(odd, new Counting(null)).rows()).isEqualTo(8);
        assertThat(cache.path(odd).startsWith(dir.resolve("step-1/text"))).isTrue(); // no escape from the root
        assertThat(cache.path(odd).getParent().getFileName().toString()).matches("my_data_.._x_y-[0-9a-f]{8}");
        assertThat(cache.removeCheckpoint(KEY.checkpointId())).isEqualTo(2);
        assertThat(cache.lookup(KEY)).isEmpty();
        assertThat(cache.lookup(other)).isPresent();
    }

    @Test
    void corruptFileIsRecomputedAndRewritten() throws IOException {
        FeatureSet features = random(200, 16, 2);
        Counting extractor = new Counting(features);
        FeatureCache cache = new FeatureCache(dir);
        cache.get(KEY, extractor);
        Path file = cache.path(KEY);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) { // one flipped bit in the payload
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x10);
        }
        assertThatThrownBy(() -> FeatureFile.read(file, KEY)).isInstanceOf(FeatureFileException.class)
                .hasMessageContaining("CRC32C mismatch");

        assertThat(cache.get(KEY, extractor).contentEquals(features)).isTrue();
        assertThat(extractor.calls).hasValue(2);
        assertThat(cache.stats()).isEqualTo(new FeatureCache.Stats(0, 2, 1));
        assertThat(FeatureFile.read(file, KEY).contentEquals(features)).isTrue(); // rewritten valid
        cache.get(KEY, extractor);
        assertThat(extractor.calls).hasValue(2);
    }

    @Test
    void truncatedFileIsRecomputed() throws IOException {
        Counting extractor = new Counting(random(50, 8, 3));
        FeatureCache cache = new FeatureCache(dir);
        cache.get(KEY, extractor);
        byte[] bytes = Files.readAllBytes(cache.path(KEY));
        Files.write(cache.path(KEY), Arrays.copyOf(bytes, bytes.length - 100)); // a crash mid-write elsewhere
        assertThatThrownBy(() -> FeatureFile.read(cache.path(KEY), KEY)).hasMessageContaining("truncated or corrupt");
        cache.get(KEY, extractor);
        assertThat(extractor.calls).hasValue(2);
        assertThat(cache.stats().corrupt()).isEqualTo(1);
    }

    @Test
    void decoderNamesEachDefect() throws IOException {
        Path file = dir.resolve("f.d2vf");
        FeatureFile.write(file, KEY, random(4, 2, 4));
        byte[] good = Files.readAllBytes(file);

        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putShort(4, (short) 2);
        Files.write(file, version);
        assertThatThrownBy(() -> FeatureFile.read(file, KEY))
                .hasMessageContaining("unknown feature cache file version 2 (this build reads 1)");

        byte[] magic = good.clone();
        magic[0] = 'X';
        Files.write(file, magic);
        assertThatThrownBy(() -> FeatureFile.read(file, KEY)).hasMessageContaining("not a feature cache file");

        Files.write(file, good);
        FeatureKey other = new FeatureKey("step-2", Modality.IMAGE, "fashion-mnist", "train");
        assertThatThrownBy(() -> FeatureFile.read(file, other)).hasMessageContaining("holds 'step-000001200 / image");

        Files.write(file, new byte[0]);
        assertThatThrownBy(() -> FeatureFile.read(file, KEY)).isInstanceOf(FeatureFileException.class);
    }

    @Test
    void extractorFailureStoresNothing() {
        FeatureCache cache = new FeatureCache(dir);
        assertThatThrownBy(() -> cache.get(KEY, () -> {
            throw new Exception("encoder exploded");
        })).isInstanceOf(IOException.class).hasMessageContaining("encoder exploded").hasMessageContaining("fashion-mnist");
        assertThat(Files.exists(cache.path(KEY))).isFalse();
    }

    @Test
    void emptySetRoundTrips() throws IOException {
        FeatureCache cache = new FeatureCache(dir);
        cache.put(KEY, new FeatureSet(new float[0][], new int[0]));
        assertThat(cache.lookup(KEY)).get().extracting(FeatureSet::rows).isEqualTo(0);
    }
}
