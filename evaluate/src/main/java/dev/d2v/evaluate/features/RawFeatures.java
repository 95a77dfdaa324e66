package dev.d2v.evaluate.features;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import java.util.List;
import java.util.Locale;

/**
 * Raw input features: what a probe can get out of the model's inputs without any encoder, the second baseline next
 * to the random-init encoder. Computed from the same evaluation-mode minibatches the encoder is fed, one row per
 * sample in batch order (as {@code Encoder.features}):
 * <ul>
 *   <li>image (B, C, H, W) uint8: the pixels flattened, scaled as the model input is, (x / 255 - 0.5) / 0.5 in
 *       [-1, 1] (train's BatchTensors): C·H·W dims;</li>
 *   <li>audio (B, T, mels) fp16 log-mel, frame-major: mean and std of each mel band over the valid frames
 *       (padding frames left out): 2·mels dims, means first;</li>
 *   <li>text (B, L) int32 ids: a bag of the valid tokens' ids folded into {@value #TEXT_WIDTH} counts (bucket = id
 *       mod {@value #TEXT_WIDTH}: the specials and the ~1000 most frequent words get a bucket each, rarer ids share
 *       them), each count c as log(1 + c), the row L2-normalised (sublinear tf; k-NN's cosine and the probe's
 *       standardisation then see documents of any length alike). [PAD], [CLS] and [SEP] are left out: they are
 *       in every block and say nothing about it.</li>
 * </ul>
 * Plain Java, no model: the figures are the same for every checkpoint whose transforms produced the same batches,
 * so they are cached under {@link #cacheId(long)} (the batches' preprocessing config hash, which covers the text
 * vocabulary) and reused by every later checkpoint.
 */
public final class RawFeatures {
    /** Changes with the recipe above, so that a new recipe never reads features cached by an old one. */
    public static final int VERSION = 1;
    /** Text bag width: close to the probes' other inputs (784 pixels, 160 audio dims), not the 31k vocabulary. */
    public static final int TEXT_WIDTH = 1024;
    /** Vocabulary ids of [PAD], [CLS] and [SEP] (preprocess's Vocabulary), left out of the text bag. */
    static final int PAD = 0;
    static final int CLS = 2;
    static final int SEP = 3;

    private RawFeatures() {
    }

    /** The feature cache's checkpoint id of the raw features of batches made with this preprocessing config hash. */
    public static String cacheId(long preprocessConfigHash) {
        return String.format(Locale.ROOT, "raw-features-v%d-%016x", VERSION, preprocessConfigHash);
    }

    /** Rows and labels (-1 where a sample has none) of the raw features of {@code batches}, all of one modality. */
    public static FeatureSet of(List<Minibatch> batches) {
        int total = batches.stream().mapToInt(Minibatch::batchSize).sum();
        float[][] rows = new float[total][];
        int[] labels = new int[total];
        int row = 0;
        for (Minibatch b : batches) {
            float[][] f = switch (b.modality()) {
                case IMAGE -> image(b);
                case AUDIO -> audio(b);
                case TEXT -> text(b);
            };
            int[] l = b.labels();
            for (int i = 0; i < f.length; i++) {
                labels[row] = l == null ? -1 : l[i];
                rows[row++] = f[i];
            }
        }
        return new FeatureSet(rows, labels);
    }

    /** (B, C, H, W) uint8 -&gt; (B, C·H·W) in [-1, 1]. */
    static float[][] image(Minibatch b) {
        require(b, Modality.IMAGE, DType.UINT8, 4);
        float[] x = b.toFloatArray();
        int n = b.batchSize();
        int d = b.elementsPerSample();
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                out[i][j] = (x[i * d + j] / 255f - 0.5f) / 0.5f;
            }
        }
        return out;
    }

    /** (B, T, mels) -&gt; (B, 2·mels): per band the mean, then the std (population), over the first validLength frames. */
    static float[][] audio(Minibatch b) {
        require(b, Modality.AUDIO, DType.FP16, 3);
        float[] x = b.toFloatArray();
        int n = b.batchSize();
        int frames = b.dim(1);
        int mels = b.dim(2);
        int[] valid = b.validLengths();
        float[][] out = new float[n][2 * mels];
        for (int i = 0; i < n; i++) {
            int t1 = valid[i];
            if (t1 == 0) {
                continue; // no audio: zeros
            }
            for (int m = 0; m < mels; m++) {
                double sum = 0;
                double sq = 0;
                for (int t = 0; t < t1; t++) {
                    double v = x[(i * frames + t) * mels + m];
                    sum += v;
                    sq += v * v;
                }
                double mean = sum / t1;
                out[i][m] = (float) mean;
                out[i][mels + m] = (float) Math.sqrt(Math.max(0, sq / t1 - mean * mean));
            }
        }
        return out;
    }

    /** (B, L) ids -&gt; (B, {@value #TEXT_WIDTH}) L2-normalised log(1 + count) over the first validLength ids. */
    static float[][] text(Minibatch b) {
        require(b, Modality.TEXT, DType.INT32, 2);
        int[] ids = b.toIntArray();
        int n = b.batchSize();
        int len = b.dim(1);
        int[] valid = b.validLengths();
        float[][] out = new float[n][TEXT_WIDTH];
        for (int i = 0; i < n; i++) {
            int[] counts = new int[TEXT_WIDTH];
            for (int t = 0; t < valid[i]; t++) {
                int id = ids[i * len + t];
                if (id != PAD && id != CLS && id != SEP) {
                    counts[Math.floorMod(id, TEXT_WIDTH)]++;
                }
            }
            double norm = 0;
            for (int k = 0; k < TEXT_WIDTH; k++) {
                if (counts[k] > 0) {
                    out[i][k] = (float) Math.log1p(counts[k]);
                    norm += out[i][k] * out[i][k];
                }
            }
            if (norm > 0) {
                float inv = (float) (1 / Math.sqrt(norm));
                for (int k = 0; k < TEXT_WIDTH; k++) {
                    out[i][k] *= inv;
                }
            }
        }
        return out;
    }

    private static void require(Minibatch b, Modality m, DType type, int rank) {
        if (b.modality() != m || b.dtype() != type || b.rank() != rank) {
            throw new IllegalArgumentException(m.id() + " raw features need " + type + " batches of rank " + rank
                    + ", got " + b.modality().id() + " " + b.dtype() + " of rank " + b.rank());
        }
    }
}
