package dev.d2v.infra.wire;

import dev.d2v.infra.Modality;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One preprocessed minibatch of one modality, as it travels on d2v.batch.&lt;modality&gt;.
 *
 * <p>Shapes: {@code shape = [B, ...]}, e.g. image {@code [B, C, H, W]} uint8, audio {@code [B, T, mels]} fp16,
 * text {@code [B, L]} int32. The payload holds {@code product(shape)} elements of {@code dtype}, row-major,
 * little-endian.
 *
 * @param modality            which encoder the batch feeds
 * @param dtype               element type of the payload
 * @param shape               dims, all &gt;= 1, rank 1..{@value #MAX_RANK}; {@code shape[0]} = batch size B
 * @param sampleIds           B sample ids (the raw record keys): lineage from batch back to source
 * @param validLengths        B valid lengths along axis 1 (audio: frames, text: tokens; image: {@code shape[1]},
 *                            nothing is padded); each in {@code [0, shape[1]]}, or {@code [0, 1]} for rank 1
 * @param labels              B class ids, -1 = this sample has no label; {@code null} = the batch carries no labels
 * @param partial             true when the batcher emitted it after a timeout with fewer than its configured size
 * @param preprocessConfigHash hash of the preprocessing config that produced it (the trainer refuses a mismatch)
 * @param createdAtMs         event time (epoch ms) of the newest sample in the batch, for freshness metrics
 * @param payload             {@code product(shape) * dtype.width()} bytes. Not copied: the record takes ownership
 *                            (payloads are megabytes); do not change the array after construction.
 */
public record Minibatch(
        Modality modality,
        DType dtype,
        int[] shape,
        List<String> sampleIds,
        int[] validLengths,
        int[] labels,
        boolean partial,
        long preprocessConfigHash,
        long createdAtMs,
        byte[] payload) {

    /** Highest rank accepted; image [B, C, H, W] needs 4, the rest is headroom. */
    public static final int MAX_RANK = 8;
    /** A sample id is written with a u16 length prefix. */
    public static final int MAX_SAMPLE_ID_BYTES = 0xffff;
    /** Largest payload a byte[] can hold, with headroom for the header. */
    public static final long MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 1024;

    public Minibatch {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(sampleIds, "sampleIds");
        Objects.requireNonNull(validLengths, "validLengths");
        Objects.requireNonNull(payload, "payload");
        shape = shape.clone();
        validLengths = validLengths.clone();
        labels = labels == null ? null : labels.clone();
        sampleIds = List.copyOf(sampleIds); // also rejects null ids
        long payloadBytes = payloadBytes(shape, dtype);
        if (payload.length != payloadBytes) {
            throw new IllegalArgumentException("payload has " + payload.length + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + payloadBytes);
        }
        int b = shape[0];
        requireBatchLength("sampleIds", sampleIds.size(), b);
        requireBatchLength("validLengths", validLengths.length, b);
        int maxValid = shape.length >= 2 ? shape[1] : 1;
        for (int i = 0; i < b; i++) {
            if (validLengths[i] < 0 || validLengths[i] > maxValid) {
                throw new IllegalArgumentException("validLengths[" + i + "] = " + validLengths[i]
                        + " is outside [0, " + maxValid + "] (axis 1 of shape " + Arrays.toString(shape) + ")");
            }
            requireEncodableId(i, sampleIds.get(i));
        }
        if (labels != null) {
            requireBatchLength("labels", labels.length, b);
            for (int i = 0; i < b; i++) {
                if (labels[i] < -1) {
                    throw new IllegalArgumentException("labels[" + i + "] = " + labels[i] + ": use -1 for 'no label'");
                }
            }
        }
    }

    /** An id must survive UTF-8 (no lone surrogates, which would turn into '?') and fit a u16 length. */
    private static void requireEncodableId(int i, String id) {
        for (int k = 0; k < id.length(); k++) {
            char c = id.charAt(k);
            if (Character.isHighSurrogate(c) && k + 1 < id.length() && Character.isLowSurrogate(id.charAt(k + 1))) {
                k++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("sample id " + i + " has a lone UTF-16 surrogate at char " + k
                        + ": it would not survive UTF-8");
            }
        }
        if (id.getBytes(StandardCharsets.UTF_8).length > MAX_SAMPLE_ID_BYTES) {
            throw new IllegalArgumentException("sample id " + i + " is longer than " + MAX_SAMPLE_ID_BYTES + " UTF-8 bytes");
        }
    }

    /** {@code product(shape) * width} bytes, after checking rank and dims. */
    public static long payloadBytes(int[] shape, DType dtype) {
        if (shape.length < 1 || shape.length > MAX_RANK) {
            throw new IllegalArgumentException("shape must have rank 1.." + MAX_RANK + ", got " + Arrays.toString(shape));
        }
        long n = dtype.width();
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("every dim must be >= 1, got shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > MAX_PAYLOAD_BYTES) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
                        + " exceeds " + MAX_PAYLOAD_BYTES + " payload bytes");
            }
        }
        return n;
    }

    private static void requireBatchLength(String what, int got, int b) {
        if (got != b) {
            throw new IllegalArgumentException(what + " has " + got + " entries but the batch size shape[0] is " + b);
        }
    }

    // ---- accessors that copy, so the record stays immutable ----

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public int[] validLengths() {
        return validLengths.clone();
    }

    /** Per-sample labels (-1 = none), or null when the batch carries no labels. */
    @Override
    public int[] labels() {
        return labels == null ? null : labels.clone();
    }

    public boolean hasLabels() {
        return labels != null;
    }

    public int batchSize() {
        return shape[0];
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    /** Elements in the whole batch: product(shape). */
    public int elementCount() {
        return payload.length / dtype.width();
    }

    /** Elements per sample: product(shape[1:]). */
    public int elementsPerSample() {
        return elementCount() / shape[0];
    }

    // ---- payload readers ----

    /** Every element as float: uint8 as 0..255, fp16 widened exactly, int32 cast. Length product(shape). */
    public float[] toFloatArray() {
        int n = elementCount();
        float[] out = new float[n];
        ByteBuffer buf = le(payload);
        switch (dtype) {
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = payload[i] & 0xff;
                }
            }
            case FP16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = DType.fp16ToFloat(buf.getShort(2 * i));
                }
            }
            case FP32 -> buf.asFloatBuffer().get(out);
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = buf.getInt(4 * i);
                }
            }
        }
        return out;
    }

    /** Integer elements, exact: int32 as is, uint8 as 0..255. Floating dtypes are refused (no silent rounding). */
    public int[] toIntArray() {
        int n = elementCount();
        int[] out = new int[n];
        switch (dtype) {
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = payload[i] & 0xff;
                }
            }
            case INT32 -> le(payload).asIntBuffer().get(out);
            default -> throw new IllegalStateException("toIntArray() needs an UINT8 or INT32 batch, this one is " + dtype);
        }
        return out;
    }

    /** Raw fp16 bit patterns of an FP16 batch (for handing to a device as half precision without widening). */
    public short[] toFp16Bits() {
        if (dtype != DType.FP16) {
            throw new IllegalStateException("toFp16Bits() needs an FP16 batch, this one is " + dtype);
        }
        short[] out = new short[elementCount()];
        le(payload).asShortBuffer().get(out);
        return out;
    }

    // ---- payload writers ----

    /** Little-endian fp32 bytes of {@code values}. */
    public static byte[] fp32Bytes(float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return buf.array();
    }

    /** Little-endian fp16 bytes of {@code values}, each rounded to nearest even. */
    public static byte[] fp16Bytes(float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            buf.putShort(2 * i, DType.floatToFp16(values[i]));
        }
        return buf.array();
    }

    /** Little-endian int32 bytes of {@code values}. */
    public static byte[] int32Bytes(int[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(values);
        return buf.array();
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---- factories ----

    /**
     * An unlabeled, full batch of float values stored as {@code dtype} (FP32 as is, FP16 rounded); the
     * simplest way to make a batch in a test. createdAtMs = 0, config hash = 0.
     */
    public static Minibatch ofFloats(Modality modality, DType dtype, int[] shape, List<String> sampleIds,
                                     int[] validLengths, float[] values) {
        return builder(modality, shape).sampleIds(sampleIds).validLengths(validLengths).floats(dtype, values);
    }

    /** Starts a batch of {@code modality} with dims {@code shape} ({@code shape[0]} = B). */
    public static Builder builder(Modality modality, int... shape) {
        return new Builder(modality, shape);
    }

    /** Collects the metadata; a payload method (uint8, fp16, fp32, int32, floats, payload) builds the record. */
    public static final class Builder {
        private final Modality modality;
        private final int[] shape;
        private List<String> sampleIds = List.of();
        private int[] validLengths; // null = full length for every sample
        private int[] labels;
        private boolean partial;
        private long preprocessConfigHash;
        private long createdAtMs;

        private Builder(Modality modality, int[] shape) {
            this.modality = modality;
            this.shape = shape.clone();
        }

        public Builder sampleIds(List<String> ids) {
            this.sampleIds = ids;
            return this;
        }

        public Builder sampleIds(String... ids) {
            return sampleIds(List.of(ids));
        }

        /** Default: every sample full length ({@code shape[1]}, or 1 for rank 1). */
        public Builder validLengths(int... lengths) {
            this.validLengths = lengths;
            return this;
        }

        /** Per-sample labels, -1 = none; null = no labels at all (the default). */
        public Builder labels(int... labels) {
            this.labels = labels;
            return this;
        }

        public Builder partial(boolean partial) {
            this.partial = partial;
            return this;
        }

        public Builder preprocessConfigHash(long hash) {
            this.preprocessConfigHash = hash;
            return this;
        }

        public Builder createdAtMs(long ms) {
            this.createdAtMs = ms;
            return this;
        }

        public Minibatch uint8(byte[] pixels) {
            return payload(DType.UINT8, pixels.clone());
        }

        public Minibatch fp16(float[] values) {
            return payload(DType.FP16, fp16Bytes(values));
        }

        public Minibatch fp32(float[] values) {
            return payload(DType.FP32, fp32Bytes(values));
        }

        public Minibatch int32(int[] values) {
            return payload(DType.INT32, int32Bytes(values));
        }

        /** Float values stored as FP32 or FP16. */
        public Minibatch floats(DType dtype, float[] values) {
            return switch (dtype) {
                case FP32 -> fp32(values);
                case FP16 -> fp16(values);
                default -> throw new IllegalArgumentException("floats(...) stores FP16 or FP32, not " + dtype);
            };
        }

        /** Raw little-endian payload bytes; the record takes ownership of the array. */
        public Minibatch payload(DType dtype, byte[] bytes) {
            int[] valid = validLengths;
            if (valid == null) {
                valid = new int[shape.length == 0 ? 0 : Math.max(shape[0], 0)];
                Arrays.fill(valid, shape.length >= 2 ? shape[1] : 1);
            }
            return new Minibatch(modality, dtype, shape, sampleIds, valid, labels, partial,
                    preprocessConfigHash, createdAtMs, bytes);
        }
    }

    // ---- value semantics over the arrays ----

    @Override
    public boolean equals(Object o) {
        return o instanceof Minibatch m
                && modality == m.modality
                && dtype == m.dtype
                && partial == m.partial
                && preprocessConfigHash == m.preprocessConfigHash
                && createdAtMs == m.createdAtMs
                && Arrays.equals(shape, m.shape)
                && sampleIds.equals(m.sampleIds)
                && Arrays.equals(validLengths, m.validLengths)
                && Arrays.equals(labels, m.labels)
                && Arrays.equals(payload, m.payload);
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(modality, dtype, partial, preprocessConfigHash, createdAtMs, sampleIds);
        h = 31 * h + Arrays.hashCode(shape);
        h = 31 * h + Arrays.hashCode(validLengths);
        h = 31 * h + Arrays.hashCode(labels);
        return 31 * h + Arrays.hashCode(payload);
    }

    /** Metadata only; the payload is summarised by its size. */
    @Override
    public String toString() {
        return "Minibatch[" + modality.id() + " " + dtype + " " + Arrays.toString(shape)
                + (partial ? " partial" : "")
                + ", ids=" + (sampleIds.size() <= 4 ? sampleIds : sampleIds.subList(0, 4) + "...")
                + ", validLengths=" + Arrays.toString(validLengths)
                + (labels == null ? "" : ", labels=" + Arrays.toString(labels))
                + ", configHash=" + Long.toHexString(preprocessConfigHash)
                + ", createdAtMs=" + createdAtMs
                + ", payload=" + payload.length + " bytes]";
    }
}
