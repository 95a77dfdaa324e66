package dev.d2v.preprocess.transform.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntBinaryOperator;
import java.util.stream.LongStream;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class ImageTransformTest {

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(img, format, out)).as("writer for " + format).isTrue();
        return out.toByteArray();
    }

    static BufferedImage gray(int w, int h, IntBinaryOperator value) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, value.applyAsInt(x, y));
            }
        }
        return img;
    }

    static BufferedImage rgb(int w, int h, IntBinaryOperator argb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, argb.applyAsInt(x, y));
            }
        }
        return img;
    }

    static int u8(byte b) {
        return b & 0xff;
    }

    private static final ImageTransformConfig GRAY28 = ImageTransformConfig.defaults();

    @Test
    void grayPngAtOutputSizeDecodesToTheSameValues() throws IOException {
        byte[] png = encode(gray(28, 28, (x, y) -> (x * 9 + y * 5) % 256), "png");
        byte[] out = new ImageTransform(GRAY28).apply(png, "a", 0, Mode.EVAL);
        assertThat(out).hasSize(28 * 28);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertThat(u8(out[y * 28 + x])).as("pixel %d,%d", x, y).isEqualTo((x * 9 + y * 5) % 256);
            }
        }
    }

    @Test
    void rgbPngIsChwWithPlanesInRgbOrder() throws IOException {
        // left half red, right half blue, bottom row green
        byte[] png = encode(rgb(8, 8, (x, y) -> y == 7 ? 0x00ff00 : x < 4 ? 0xff0000 : 0x0000ff), "png");
        byte[] out = new ImageTransform(GRAY28.withChannels(3).withSize(8)).apply(png, "a", 0, Mode.EVAL);
        assertThat(out).hasSize(3 * 8 * 8);
        assertThat(u8(out[0 * 64 + 0 * 8 + 1])).isEqualTo(255); // R plane, left
        assertThat(u8(out[2 * 64 + 0 * 8 + 1])).isZero(); // B plane, left
        assertThat(u8(out[0 * 64 + 0 * 8 + 6])).isZero(); // R plane, right
        assertThat(u8(out[2 * 64 + 3 * 8 + 6])).isEqualTo(255); // B plane, right
        assertThat(u8(out[1 * 64 + 7 * 8 + 2])).isEqualTo(255); // G plane, bottom row
        assertThat(u8(out[1 * 64 + 6 * 8 + 2])).isZero();
    }

    @Test
    void rgbToGrayUsesBt601Luma() throws IOException {
        byte[] png = encode(rgb(4, 4, (x, y) -> 0xff0000), "png");
        byte[] out = new ImageTransform(GRAY28.withSize(4)).apply(png, "a", 0, Mode.EVAL);
        assertThat(u8(out[5])).isEqualTo(Math.round(0.299f * 255));
    }

    @Test
    void jpegDecodesToApproximatelyItsColour() throws IOException {
        byte[] jpg = encode(rgb(32, 32, (x, y) -> (200 << 16) | (50 << 8) | 100), "jpg");
        byte[] out = new ImageTransform(GRAY28.withChannels(3).withSize(16)).apply(jpg, "a", 0, Mode.EVAL);
        int[] expected = {200, 50, 100};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 256; i++) {
                assertThat(u8(out[c * 256 + i])).as("channel %d", c).isBetween(expected[c] - 6, expected[c] + 6);
            }
        }
    }

    @Test
    void downscaleKeepsAStepEdgeAndAConstantImage() throws IOException {
        byte[] png = encode(gray(56, 56, (x, y) -> x < 28 ? 0 : 255), "png");
        byte[] out = new ImageTransform(GRAY28).apply(png, "a", 0, Mode.EVAL);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 13; x++) {
                assertThat(u8(out[y * 28 + x])).isZero();
                assertThat(u8(out[y * 28 + 27 - x])).isEqualTo(255);
            }
            // the two columns at the edge mix both sides symmetrically
            assertThat(u8(out[y * 28 + 13]) + u8(out[y * 28 + 14])).isBetween(254, 256);
            assertThat(u8(out[y * 28 + 13])).isBetween(1, 254);
        }
        byte[] flat = new ImageTransform(GRAY28).apply(encode(gray(97, 61, (x, y) -> 77), "png"), "a", 0, Mode.EVAL);
        for (byte b : flat) {
            assertThat(u8(b)).isEqualTo(77);
        }
    }

    @Test
    void upscaleInterpolatesMonotonically() throws IOException {
        byte[] png = encode(gray(4, 4, (x, y) -> x * 80), "png");
        byte[] out = new ImageTransform(GRAY28.withSize(16)).apply(png, "a", 0, Mode.EVAL);
        for (int x = 1; x < 16; x++) {
            assertThat(u8(out[5 * 16 + x])).isGreaterThanOrEqualTo(u8(out[5 * 16 + x - 1]));
        }
        assertThat(u8(out[5 * 16])).isZero();
        assertThat(u8(out[5 * 16 + 15])).isEqualTo(240);
    }

    @Test
    void evalCropsTheCentredSquare() {
        assertThat(ImageTransform.centreSquare(100, 60)).isEqualTo(new Resize.Box(20, 0, 60, 60));
        assertThat(ImageTransform.centreSquare(60, 100)).isEqualTo(new Resize.Box(0, 20, 60, 60));
    }

    @Test
    void trainingCropsAreSeededBySampleAndEpoch() throws IOException {
        SplittableRandom noise = new SplittableRandom(7);
        byte[] png = encode(gray(64, 48, (x, y) -> noise.nextInt(256)), "png");
        ImageTransform t = new ImageTransform(GRAY28);
        byte[] first = t.apply(png, "img-1", 3, Mode.TRAIN);
        assertThat(t.apply(png, "img-1", 3, Mode.TRAIN)).isEqualTo(first);
        long distinct = LongStream.range(0, 6)
                .mapToObj(e -> Arrays.toString(t.apply(png, "img-1", e, Mode.TRAIN))).distinct().count();
        assertThat(distinct).isEqualTo(6);
        assertThat(t.apply(png, "img-2", 3, Mode.TRAIN)).isNotEqualTo(first);
        assertThat(t.apply(png, "img-1", 3, Mode.EVAL)).isEqualTo(t.apply(png, "img-9", 8, Mode.EVAL));
    }

    @Test
    void randomResizedCropStaysInsideTheImageAndTheConfiguredRanges() {
        ImageTransformConfig cfg = GRAY28;
        for (int i = 0; i < 2000; i++) {
            SplittableRandom rng = new SplittableRandom(StableHash.seed("s" + i, i));
            int w = 100 + i % 300; // >= 100 px so that integer rounding moves the area by < 2%
            int h = 100 + (i * 7) % 200;
            Resize.Box b = ImageTransform.randomResizedCrop(w, h, cfg, rng);
            assertThat(b.left()).isGreaterThanOrEqualTo(0);
            assertThat(b.top()).isGreaterThanOrEqualTo(0);
            assertThat(b.left() + b.width()).isLessThanOrEqualTo(w);
            assertThat(b.top() + b.height()).isLessThanOrEqualTo(h);
            double area = (double) b.width() * b.height() / (w * h);
            assertThat(area).as("area fraction of %s in %dx%d", b, w, h).isBetween(0.19, 1.0);
            double aspect = (double) b.width() / b.height();
            assertThat(aspect).isBetween(0.70, 1.40); // 3/4..4/3 plus rounding
        }
    }

    @Test
    void flipMirrorsTheImage() throws IOException {
        byte[] png = encode(gray(28, 28, (x, y) -> x * 9), "png");
        ImageTransformConfig alwaysFlipFullCrop = new ImageTransformConfig(1, 28, 1_000_000, 1 << 20,
                1.0, 1.0, 3.0 / 4, 4.0 / 3, 1.0);
        byte[] flipped = new ImageTransform(alwaysFlipFullCrop).apply(png, "a", 1, Mode.TRAIN);
        byte[] plain = new ImageTransform(alwaysFlipFullCrop).apply(png, "a", 1, Mode.EVAL);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertThat(flipped[y * 28 + x]).isEqualTo(plain[y * 28 + 27 - x]);
            }
        }
        assertThat(u8(flipped[0])).isEqualTo(27 * 9);
    }

    /** A valid PNG signature and IHDR declaring 100000 x 100000 8-bit gray pixels, and no image data. */
    static byte[] bombPng() {
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes()).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteBuffer png = ByteBuffer.allocate(8 + 4 + 17 + 4 + 12);
        png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        png.putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
        CRC32 endCrc = new CRC32();
        endCrc.update("IEND".getBytes());
        png.putInt(0).put("IEND".getBytes()).putInt((int) endCrc.getValue());
        return png.array();
    }

    @Test
    void decompressionBombIsRejectedFromTheHeader() {
        byte[] bomb = bombPng();
        assertThat(bomb.length).isLessThan(64);
        assertThatThrownBy(() -> new ImageTransform(GRAY28).apply(bomb, "bomb", 0, Mode.EVAL))
                .isInstanceOfSatisfying(BadRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(BadRecordException.IMAGE_TOO_LARGE))
                .hasMessageContaining("100000x100000");
    }

    @Test
    void aLargeImageIsReadSubsampledSoItsRasterStaysWithinTheDecodeBudget() throws IOException {
        assertThat(ImageDecoder.subsampling(2048, 2048)).isEqualTo(1);
        assertThat(ImageDecoder.subsampling(2049, 2048)).isEqualTo(2);
        assertThat(ImageDecoder.subsampling(100_000, 100_000)).isEqualTo(49);   // 2041 x 2041 read
        BufferedImage big = gray(2100, 2100, (x, y) -> x < 1050 ? 40 : 220);   // dark left half, bright right half
        ImageDecoder.Planes p = ImageDecoder.decode(encode(big, "png"), 1, 40_000_000L, 20L << 20);
        assertThat(p.width()).isEqualTo(1050);
        assertThat(p.height()).isEqualTo(1050);
        assertThat(p.planes()[0][525 * 1050 + 10]).isEqualTo(40f);
        assertThat(p.planes()[0][525 * 1050 + 1040]).isEqualTo(220f);
    }

    @Test
    void corruptEmptyAndOversizedInputsAreBadRecords() throws IOException {
        ImageTransform t = new ImageTransform(GRAY28.withLimits(1_000_000, 2000));
        byte[] random = new byte[500];
        new SplittableRandom(1).nextBytes(random);
        assertReason(() -> t.apply(random, "x", 0, Mode.EVAL), BadRecordException.UNDECODABLE_IMAGE);
        byte[] png = encode(gray(28, 28, (x, y) -> x * y % 256), "png");
        byte[] cut = Arrays.copyOf(png, png.length / 2);
        assertReason(() -> t.apply(cut, "x", 0, Mode.EVAL), BadRecordException.UNDECODABLE_IMAGE);
        assertReason(() -> t.apply(new byte[0], "x", 0, Mode.EVAL), BadRecordException.EMPTY);
        assertReason(() -> t.apply(new byte[2001], "x", 0, Mode.EVAL), BadRecordException.OVERSIZED);
    }

    static void assertReason(ThrowingCallable call, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(BadRecordException.class,
                e -> assertThat(e.reason()).isEqualTo(reason));
    }

    @Test
    void configHashIsStableAndSensitive() {
        assertThat(GRAY28.hash()).isEqualTo(ImageTransformConfig.defaults().hash());
        assertThat(GRAY28.withSize(32).hash()).isNotEqualTo(GRAY28.hash());
        assertThat(GRAY28.withChannels(3).hash()).isNotEqualTo(GRAY28.hash());
        assertThat(GRAY28.withLimits(5, 5).hash()).isEqualTo(GRAY28.hash());
    }
}
