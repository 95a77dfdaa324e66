package dev.d2v.train.step;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.mask.Masking;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;

/**
 * A wire minibatch as model input on the device. Compact wire types are widened here, on the device
 * (DESIGN: "normalisation happens on the device").
 *
 * @param input       image (B, C, H, W) fp32 in [-1, 1]; audio (B, 1, mels, frames) fp32; text (B, L) int64
 * @param validTokens (B) real tokens after the local encoder (audio: ceil(frames / 2)), or null when nothing is padded
 * @param sampleKeys  (B) stable keys of the rows: the masks' seeds (a packed row: its first text's key)
 * @param samples     samples in the batch: B, or more when texts are packed several to a row
 */
public record BatchTensors(Modality modality, NDArray input, int[] validTokens, long[] sampleKeys, int samples) {

    /** Pixels are mapped to [-1, 1]: (x / 255 - 0.5) / 0.5. */
    static final float PIXEL_MEAN = 0.5f;
    static final float PIXEL_STD = 0.5f;

    /** Samples in the batch (not rows: a packed text batch has fewer rows). */
    public int batchSize() {
        return samples;
    }

    /** As a training step takes it: {@link #check}ed, {@link #of}, then text packed into full rows when the section says so. */
    public static BatchTensors forTraining(Minibatch b, ModalityConfig c, NDManager manager) {
        check(b, c);
        if (b.modality() != Modality.TEXT || !c.packRows()) {
            return decode(b, manager);
        }
        int[] shape = b.shape();
        int[] ids = new int[shape[0] * shape[1]];
        ByteBuffer.wrap(b.payload()).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        int[] lengths = new int[shape[0]];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = Math.min(shape[1], Math.max(1, b.validLengths()[i]));
        }
        RowPacking.Packed p = RowPacking.pack(ids, shape[1], lengths, keys(b));
        NDArray x = manager.create(p.ids(), new Shape(p.rows(), p.width())).toType(DataType.INT64, false);
        return new BatchTensors(Modality.TEXT, x, p.valid(), p.keys(), p.samples());
    }

    /**
     * Refuses a batch that a training step cannot take, before anything reaches the device: {@link #checkFits} (the
     * local encoder's dtype, shape and vocabulary), and further an audio batch longer than the configured frames
     * (attention is quadratic in its length), a non-finite fp16 value, or a sample id twice in one batch (a sample
     * would be trained twice). Costs one pass over the payload.
     *
     * @throws BadBatchException with its reason code
     */
    public static void check(Minibatch b, ModalityConfig c) {
        checkFits(b, c.localEncoder());
        if (b.modality() == Modality.AUDIO) {
            int frames = b.shape()[1];
            if (frames > c.localEncoder().frames()) {
                throw new BadBatchException(BadBatchException.SHAPE, "audio batch of " + frames
                        + " frames is longer than the model's " + c.localEncoder().frames());
            }
            requireFinite(b);
        }
        requireDistinctIds(b);
    }

    /**
     * The checks any use of the encoder needs (training, features): the modality's dtype and rank, an image's
     * channels and size, audio's mel bands, a text row within max_length and every token id within the vocabulary
     * (an id beyond it would index past the embedding table).
     *
     * @throws BadBatchException with its reason code
     */
    public static void checkFits(Minibatch b, LocalEncoderConfig l) {
        int[] shape = b.shape();
        switch (b.modality()) {
            case IMAGE -> {
                require(b, DType.UINT8, 4);
                if (shape[1] != l.channels() || shape[2] != l.height() || shape[3] != l.width()) {
                    throw new BadBatchException(BadBatchException.SHAPE, "image batch of " + shape[1] + "x" + shape[2]
                            + "x" + shape[3] + " does not fit the model's " + l.channels() + "x" + l.height() + "x"
                            + l.width());
                }
            }
            case AUDIO -> {
                require(b, DType.FP16, 3);
                if (shape[2] != l.mels()) {
                    throw new BadBatchException(BadBatchException.SHAPE, "audio batch of " + shape[2]
                            + " mels does not fit the model's " + l.mels());
                }
            }
            case TEXT -> {
                require(b, DType.INT32, 2);
                if (shape[1] > l.maxLength()) {
                    throw new BadBatchException(BadBatchException.SHAPE, "text batch of " + shape[1]
                            + " tokens exceeds max_length " + l.maxLength());
                }
                requireTokens(b, l.vocabSize());
            }
        }
    }

    private static void requireTokens(Minibatch b, int vocabSize) {
        var ids = ByteBuffer.wrap(b.payload()).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        for (int i = 0; i < ids.limit(); i++) {
            int id = ids.get(i);
            if (id < 0 || id >= vocabSize) {
                int row = i / b.shape()[1];
                throw new BadBatchException(BadBatchException.TOKEN_RANGE, "token id " + id + " of sample '"
                        + b.sampleIds().get(row) + "' is outside the vocabulary's [0, " + vocabSize + ")");
            }
        }
    }

    private static void requireFinite(Minibatch b) {
        var half = ByteBuffer.wrap(b.payload()).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        for (int i = 0; i < half.limit(); i++) {
            if ((half.get(i) & 0x7c00) == 0x7c00) {   // exponent all ones: infinity or NaN
                int row = i / b.elementsPerSample();
                throw new BadBatchException(BadBatchException.NON_FINITE, "sample '" + b.sampleIds().get(row)
                        + "' has a non-finite value (" + DType.fp16ToFloat(half.get(i)) + ")");
            }
        }
    }

    private static void requireDistinctIds(Minibatch b) {
        var seen = new HashSet<String>();
        for (String id : b.sampleIds()) {
            if (!seen.add(id)) {
                throw new BadBatchException(BadBatchException.DUPLICATE_IDS, "sample id '" + id
                        + "' occurs twice in one batch: it would be trained twice");
            }
        }
    }

    /** Decodes b into manager, checking it against the modality's local encoder. */
    public static BatchTensors of(Minibatch b, ModalityConfig c, NDManager manager) {
        checkFits(b, c.localEncoder());
        return decode(b, manager);
    }

    private static BatchTensors decode(Minibatch b, NDManager manager) {
        Modality m = b.modality();
        int[] shape = b.shape();
        long[] keys = keys(b);
        ByteBuffer payload = ByteBuffer.wrap(b.payload()).order(ByteOrder.LITTLE_ENDIAN);
        return switch (m) {
            case IMAGE -> {
                NDArray raw = manager.create(payload, new Shape(toLong(shape)), DataType.UINT8);
                NDArray x = raw.toType(DataType.FLOAT32, false).divi(255f).subi(PIXEL_MEAN).divi(PIXEL_STD);
                yield new BatchTensors(m, x, null, keys, keys.length);
            }
            case AUDIO -> {
                NDArray raw = manager.create(payload, new Shape(toLong(shape)), DataType.FLOAT16);   // (B, T, mels)
                NDArray x = raw.toType(DataType.FLOAT32, false).transpose(0, 2, 1).expandDims(1);    // (B, 1, mels, T)
                int[] valid = new int[keys.length];
                for (int i = 0; i < valid.length; i++) {
                    valid[i] = Math.max(1, LocalEncoderConfig.AudioFrames.tokens(b.validLengths()[i]));
                }
                yield new BatchTensors(m, x, valid, keys, keys.length);
            }
            case TEXT -> {
                NDArray raw = manager.create(payload, new Shape(toLong(shape)), DataType.INT32);
                int[] valid = new int[keys.length];
                for (int i = 0; i < valid.length; i++) {
                    valid[i] = Math.max(1, b.validLengths()[i]);
                }
                yield new BatchTensors(m, raw.toType(DataType.INT64, false), valid, keys, keys.length);
            }
        };
    }

    private static long[] keys(Minibatch b) {
        long[] keys = new long[b.batchSize()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Masking.sampleKey(b.sampleIds().get(i));
        }
        return keys;
    }

    private static void require(Minibatch b, DType type, int rank) {
        if (b.dtype() != type || b.rank() != rank) {
            throw new BadBatchException(BadBatchException.DTYPE, b.modality().id() + " batches must be " + type + " of rank " + rank
                    + ", got " + b.dtype() + " of rank " + b.rank());
        }
    }

    private static long[] toLong(int[] s) {
        long[] out = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i];
        }
        return out;
    }
}
