package dev.d2v.pipelines.bench;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.RawHeaders;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Seeded synthetic raw records shaped like the demo's data: 28x28 grayscale PNG digits-like blobs, 1 s
 * 16 kHz 16-bit mono WAV tones with noise, 20-40 word English-like sentences. Same seed, same bytes.
 */
final class SyntheticRaw {

    static final int AUDIO_RATE = 16_000;
    static final double AUDIO_SECONDS = 1.0;
    private static final String[] WORDS = ("the of and to in a is that for it as was with be by on not he i this are or his"
            + " from at which but have an they you were her she there been one all we their has would when if so no"
            + " river stone light garden music letter window morning winter summer mountain paper voice market").split(" ");

    private SyntheticRaw() {
    }

    static byte[] value(Modality m, int i, long seed) {
        SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + i);
        return switch (m) {
            case IMAGE -> png(rng);
            case AUDIO -> wav(rng);
            case TEXT -> sentence(rng).getBytes(StandardCharsets.UTF_8);
        };
    }

    static RawHeaders headers(Modality m) {
        return new RawHeaders(m.defaultContentType(), "bench", Optional.empty(), Optional.empty(), 0);
    }

    /** 28x28 gray: a bright blob at a random place on a dark noisy background. */
    static byte[] png(SplittableRandom rng) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        double cx = 8 + rng.nextDouble() * 12;
        double cy = 8 + rng.nextDouble() * 12;
        double r = 3 + rng.nextDouble() * 5;
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                double d = Math.hypot(x - cx, y - cy);
                int v = (int) Math.max(0, Math.min(255, 255 * Math.exp(-d * d / (2 * r * r)) + rng.nextInt(16)));
                img.getRaster().setSample(x, y, 0, v);
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 1 s of a 200-2000 Hz tone plus noise, 16-bit PCM mono at 16 kHz, in a RIFF/WAVE container. */
    static byte[] wav(SplittableRandom rng) {
        int n = (int) (AUDIO_RATE * AUDIO_SECONDS);
        double hz = 200 + rng.nextDouble() * 1800;
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * n).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(AUDIO_RATE).putInt(2 * AUDIO_RATE).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * n);
        for (int i = 0; i < n; i++) {
            double x = 0.5 * Math.sin(2 * Math.PI * hz * i / AUDIO_RATE) + 0.05 * (rng.nextDouble() * 2 - 1);
            b.putShort((short) Math.round(x * 32767));
        }
        return b.array();
    }

    static String sentence(SplittableRandom rng) {
        int n = 20 + rng.nextInt(21);
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < n; k++) {
            s.append(k == 0 ? "" : " ").append(WORDS[rng.nextInt(WORDS.length)]);
        }
        return s.append('.').toString();
    }
}
