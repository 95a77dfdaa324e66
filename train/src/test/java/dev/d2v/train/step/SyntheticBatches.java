package dev.d2v.train.step;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Small seeded minibatches in the wire format, for trainer tests. */
public final class SyntheticBatches {

    private SyntheticBatches() {}

    public static List<String> ids(String prefix, int b, long seed) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            ids.add(prefix + "-" + seed + "-" + i);
        }
        return ids;
    }

    /** Images with structure (a bright square at a random place) so that there is something to learn. */
    public static Minibatch image(int b, int c, int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[b * c * size * size];
        for (int i = 0; i < b; i++) {
            int x0 = r.nextInt(size / 2);
            int y0 = r.nextInt(size / 2);
            int side = 4 + r.nextInt(size / 3);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        boolean in = y >= y0 && y < y0 + side && x >= x0 && x < x0 + side;
                        int v = in ? 200 + r.nextInt(56) : r.nextInt(40);
                        px[((i * c + ch) * size + y) * size + x] = (byte) v;
                    }
                }
            }
        }
        return Minibatch.builder(Modality.IMAGE, b, c, size, size).sampleIds(ids("img", b, seed)).uint8(px);
    }

    /** Log-mel-like audio (B, frames, mels) with valid lengths between frames / 2 and frames. */
    public static Minibatch audio(int b, int frames, int mels, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[b * frames * mels];
        int[] valid = new int[b];
        for (int i = 0; i < b; i++) {
            valid[i] = frames / 2 + r.nextInt(frames / 2 + 1);
            int band = r.nextInt(mels);
            for (int t = 0; t < valid[i]; t++) {
                for (int f = 0; f < mels; f++) {
                    v[(i * frames + t) * mels + f] = (float) (Math.abs(f - band) < 3 ? 2 : -0.5 + 0.3 * r.nextDouble());
                }
            }
        }
        return Minibatch.builder(Modality.AUDIO, b, frames, mels).sampleIds(ids("aud", b, seed)).validLengths(valid).fp16(v);
    }

    /** Token ids (B, L) with valid lengths; ids >= 5 (after the specials), padding 0. */
    public static Minibatch text(int b, int len, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[b * len];
        int[] valid = new int[b];
        for (int i = 0; i < b; i++) {
            valid[i] = len / 2 + r.nextInt(len / 2 + 1);
            ids[i * len] = 2;
            for (int t = 1; t < valid[i]; t++) {
                ids[i * len + t] = 5 + r.nextInt(vocab - 5);
            }
        }
        return Minibatch.builder(Modality.TEXT, b, len).sampleIds(ids("txt", b, seed)).validLengths(valid).int32(ids);
    }
}
