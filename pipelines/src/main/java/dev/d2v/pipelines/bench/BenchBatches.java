package dev.d2v.pipelines.bench;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.LocalEncoderConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic minibatches in the wire format, shaped as the config's local encoder wants. Full length (no
 * padding), so that the FLOP count is exact; the step time does not depend on the values.
 */
final class BenchBatches {

    private BenchBatches() {}

    static Minibatch of(Modality m, LocalEncoderConfig l, int b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            ids.add("bench-" + m.id() + "-" + seed + "-" + i);
        }
        return switch (m) {
            case IMAGE -> {
                byte[] px = new byte[b * l.channels() * l.height() * l.width()];
                for (int i = 0; i < px.length; i++) {
                    px[i] = (byte) r.nextInt(256);
                }
                yield Minibatch.builder(m, b, l.channels(), l.height(), l.width()).sampleIds(ids).uint8(px);
            }
            case AUDIO -> {
                float[] v = new float[b * l.frames() * l.mels()];                   // (B, frames, mels)
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian();
                }
                yield Minibatch.builder(m, b, l.frames(), l.mels()).sampleIds(ids).validLengths(full(b, l.frames())).fp16(v);
            }
            case TEXT -> {
                int[] tokens = new int[b * l.maxLength()];                          // (B, L), ids after the 5 specials
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = 5 + r.nextInt(l.vocabSize() - 5);
                }
                yield Minibatch.builder(m, b, l.maxLength()).sampleIds(ids).validLengths(full(b, l.maxLength())).int32(tokens);
            }
        };
    }

    private static int[] full(int b, int length) {
        int[] v = new int[b];
        Arrays.fill(v, length);
        return v;
    }
}
