package dev.d2v.preprocess.local;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;

/** Small generated data sets in the conventional layouts. */
final class Fixtures {
    private Fixtures() {}

    /** Gray PNG of w x h with pixels from the seed. */
    static byte[] png(int w, int h, long seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = r.nextInt(256);
                img.getRaster().setSample(x, y, 0, v);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** 16-bit PCM mono WAV of a sine at hz. */
    static byte[] wav(double hz, int rate, double seconds) {
        int n = (int) Math.round(rate * seconds);
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * n).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(rate).putInt(rate * 2).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * n);
        for (int i = 0; i < n; i++) {
            b.putShort((short) Math.round(12000 * Math.sin(2 * Math.PI * hz * i / rate)));
        }
        return b.array();
    }

    /**
     * {@code root/{train,test}/{cat,dog}/NN.png}: 5 train and 2 test images per label, sizes 30..39 x 32, plus
     * {@code train/cat/bad.png} (not an image). 10 good train, 4 test.
     */
    static Path imageFolder(Path root) throws IOException {
        int k = 0;
        for (String split : new String[] {"train", "test"}) {
            for (String label : new String[] {"cat", "dog"}) {
                Path dir = Files.createDirectories(root.resolve(split).resolve(label));
                int n = split.equals("train") ? 5 : 2;
                for (int i = 0; i < n; i++, k++) {
                    Files.write(dir.resolve(String.format("%02d.png", k)), png(30 + k % 10, 32, k));
                }
            }
        }
        Files.write(root.resolve("train/cat/bad.png"), "this is not a png".getBytes(StandardCharsets.US_ASCII));
        return root;
    }

    /**
     * {@code root/train/{low,high}/N.wav} (3 each, 0.5 s and 1 s), {@code root/test/{low,high}/N.wav} (1 each),
     * plus {@code train/low/cut.wav} (data chunk cut short) and {@code train/high/text.wav} (not RIFF).
     */
    static Path audioFolder(Path root) throws IOException {
        for (String split : new String[] {"train", "test"}) {
            for (String label : new String[] {"low", "high"}) {
                Path dir = Files.createDirectories(root.resolve(split).resolve(label));
                int n = split.equals("train") ? 3 : 1;
                for (int i = 0; i < n; i++) {
                    double hz = label.equals("low") ? 200 + 20 * i : 3000 + 100 * i;
                    Files.write(dir.resolve(i + ".wav"), wav(hz, 16000, i % 2 == 0 ? 0.5 : 1.0));
                }
            }
        }
        byte[] full = wav(440, 16000, 0.5);
        Files.write(root.resolve("train/low/cut.wav"), Arrays.copyOf(full, 44 + 100));
        Files.write(root.resolve("train/high/text.wav"), "hello".getBytes(StandardCharsets.US_ASCII));
        return root;
    }

    /** train.jsonl (5 good lines, one without text, one with no tokens) and test.jsonl (2 lines). */
    static Path textFolder(Path root) throws IOException {
        Files.createDirectories(root);
        Files.writeString(root.resolve("train.jsonl"), String.join("\n",
                "{\"text\": \"The cat sat on the mat\", \"label\": \"animal\"}",
                "{\"text\": \"A dog barked at the cat\", \"label\": \"animal\"}",
                "{\"text\": \"Stocks fell as the market closed\", \"label\": \"finance\"}",
                "{\"label\": \"finance\"}",
                "{\"text\": \"  ... !!! \", \"label\": \"finance\"}",
                "{\"text\": \"The bank raised the rate\", \"label\": \"finance\"}",
                "{\"text\": \"The cat chased a mouse\", \"label\": \"animal\"}") + "\n");
        Files.writeString(root.resolve("test.jsonl"), String.join("\n",
                "{\"text\": \"A zebra ran\", \"label\": \"animal\"}",
                "{\"text\": \"The market rate\", \"label\": \"finance\"}") + "\n");
        return root;
    }
}
