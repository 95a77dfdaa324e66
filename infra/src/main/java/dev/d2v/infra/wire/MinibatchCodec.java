package dev.d2v.infra.wire;

import dev.d2v.infra.Modality;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The binary codec of d2v.batch.* records: magic "D2VB", a u16 version, a self-describing v1 body and a
 * trailing CRC32C. The byte layout is documented in infra/WIRE.md; every field is little-endian.
 *
 * <p>Claim check: with a {@link BlobStore}, a payload larger than {@code inlineLimitBytes} is put into the
 * store and the record carries its reference plus the payload's CRC32C. Decoding such a record needs a codec
 * with a store that sees the same blobs.
 *
 * <p>Thread-safe and Serializable (a Flink operator can hold one).
 */
public final class MinibatchCodec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The version this build writes. */
    public static final int VERSION = 1;
    /** First four bytes of every record, ASCII. */
    public static final String MAGIC = "D2VB";
    private static final byte[] MAGIC_BYTES = MAGIC.getBytes(StandardCharsets.US_ASCII);

    static final int FLAG_LABELS = 1;
    static final int FLAG_PARTIAL = 1 << 1;
    static final int FLAG_BLOB_REF = 1 << 2;
    private static final int KNOWN_FLAGS = FLAG_LABELS | FLAG_PARTIAL | FLAG_BLOB_REF;

    /** magic (4) + version (2): shared by every version. */
    static final int PREFIX_BYTES = 6;
    /** v1: prefix + record length (4). */
    static final int V1_LENGTH_END = 10;
    /** v1: prefix + length + modality, dtype, flags, rank (1 each). */
    static final int V1_FIXED_BYTES = 14;
    static final int CRC_BYTES = 4;
    /** Blob references are short ids or URIs; a longer one is a bug, not data. */
    public static final int MAX_REF_BYTES = 1024;

    private final BlobStore blobs;        // null: every payload inline, and by-reference records are refused
    private final long inlineLimitBytes;  // payloads strictly larger go to the store

    private MinibatchCodec(BlobStore blobs, long inlineLimitBytes) {
        if (inlineLimitBytes < 0) {
            throw new IllegalArgumentException("inline limit must be >= 0 bytes, got " + inlineLimitBytes);
        }
        this.blobs = blobs;
        this.inlineLimitBytes = inlineLimitBytes;
    }

    /** Every payload inside the record; records that carry a blob reference cannot be decoded. */
    public static MinibatchCodec inline() {
        return new MinibatchCodec(null, Long.MAX_VALUE);
    }

    /**
     * Payloads above {@code inlineLimitBytes} go to {@code store}. Keep the limit well under the topic's
     * max.message.bytes (1 MiB by default) minus the header (about 2 bytes + id length per sample).
     */
    public static MinibatchCodec withBlobStore(BlobStore store, long inlineLimitBytes) {
        return new MinibatchCodec(Objects.requireNonNull(store, "store"), inlineLimitBytes);
    }

    // ------------------------------------------------------------------ encode

    public byte[] encode(Minibatch mb) {
        byte[] payload = mb.payload();
        boolean byRef = blobs != null && payload.length > inlineLimitBytes;
        byte[] ref = byRef ? refBytes(blobs.put(payload)) : null;
        int[] shape = mb.shape();
        int b = shape[0];
        List<byte[]> ids = new ArrayList<>(b);
        long size = V1_FIXED_BYTES + 4L * shape.length + 8 + 8;
        for (String id : mb.sampleIds()) {
            byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
            ids.add(utf8);
            size += 2 + utf8.length;
        }
        size += 4L * b * (mb.hasLabels() ? 2 : 1);
        size += byRef ? 2 + ref.length + 4 : payload.length;
        size += CRC_BYTES;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("minibatch of " + size + " bytes does not fit one record: use a blob store");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC_BYTES).putShort((short) VERSION).putInt((int) size);
        buf.put((byte) mb.modality().wireId()).put((byte) mb.dtype().wireId());
        buf.put((byte) ((mb.hasLabels() ? FLAG_LABELS : 0) | (mb.partial() ? FLAG_PARTIAL : 0) | (byRef ? FLAG_BLOB_REF : 0)));
        buf.put((byte) shape.length);
        for (int d : shape) {
            buf.putInt(d);
        }
        buf.putLong(mb.preprocessConfigHash()).putLong(mb.createdAtMs());
        for (byte[] id : ids) {
            buf.putShort((short) id.length).put(id);
        }
        for (int v : mb.validLengths()) {
            buf.putInt(v);
        }
        if (mb.hasLabels()) {
            for (int l : mb.labels()) {
                buf.putInt(l);
            }
        }
        if (byRef) {
            buf.putShort((short) ref.length).put(ref).putInt((int) crc32c(payload, 0, payload.length));
        } else {
            buf.put(payload);
        }
        buf.putInt((int) crc32c(buf.array(), 0, buf.position()));
        return buf.array();
    }

    private static byte[] refBytes(String ref) {
        byte[] bytes = ref.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > MAX_REF_BYTES) {
            throw new IllegalStateException("blob store returned a reference of " + bytes.length
                    + " bytes; references must be 1.." + MAX_REF_BYTES);
        }
        return bytes;
    }

    // ------------------------------------------------------------------ decode

    /** Decodes one record; any problem is a {@link WireFormatException} whose message says what is wrong. */
    public Minibatch decode(byte[] record) {
        Objects.requireNonNull(record, "record");
        checkMagic(record);
        if (record.length < PREFIX_BYTES) {
            throw truncated(record.length + " bytes, too short even for magic and version (" + PREFIX_BYTES + " bytes)");
        }
        int version = u16(record, 4);
        return switch (version) {
            case 1 -> decodeV1(record);
            default -> throw new WireFormatException(
                    "unknown minibatch codec version " + version + " (this build reads " + VERSION + ")");
        };
    }

    /** The version field of a record, without decoding the rest (for metrics and routing). */
    public static int versionOf(byte[] record) {
        checkMagic(record);
        if (record.length < PREFIX_BYTES) {
            throw truncated(record.length + " bytes, too short even for magic and version (" + PREFIX_BYTES + " bytes)");
        }
        return u16(record, 4);
    }

    private static void checkMagic(byte[] r) {
        int n = Math.min(r.length, MAGIC_BYTES.length);
        for (int i = 0; i < n; i++) {
            if (r[i] != MAGIC_BYTES[i]) {
                throw new WireFormatException("not a minibatch record: it starts with 0x" + hexPrefix(r, 4)
                        + " instead of the magic \"" + MAGIC + "\" (wrong topic, or written by another producer?)");
            }
        }
    }

    private Minibatch decodeV1(byte[] r) {
        int n = r.length;
        if (n < V1_LENGTH_END) {
            throw truncated(n + " bytes, the v1 header needs " + V1_LENGTH_END + " to state the record length");
        }
        long declared = u32(r, 6);
        if (declared != n) {
            throw lengthMismatch(r, declared);
        }
        if (n < V1_FIXED_BYTES + CRC_BYTES) {
            throw new WireFormatException("corrupt minibatch: " + n + " bytes is shorter than any v1 record");
        }
        long stored = u32(r, n - CRC_BYTES);
        long computed = crc32c(r, 0, n - CRC_BYTES);
        if (stored != computed) {
            throw new WireFormatException(String.format(
                    "minibatch CRC32C mismatch: stored %08x, computed %08x over %d bytes (the record was changed after encoding)",
                    stored, computed, n - CRC_BYTES));
        }
        try {
            return readV1Body(ByteBuffer.wrap(r, V1_LENGTH_END, n - CRC_BYTES - V1_LENGTH_END).order(ByteOrder.LITTLE_ENDIAN));
        } catch (IllegalArgumentException e) {
            // the CRC matched, so the encoder itself wrote this: a bug or a hand-made record
            throw new WireFormatException("corrupt minibatch (CRC matches, content does not): " + e.getMessage(), e);
        }
    }

    /** A length field that disagrees with the record: a cut-off record, trailing bytes, or a flipped length bit. */
    private static WireFormatException lengthMismatch(byte[] r, long declared) {
        int n = r.length;
        if (n >= V1_FIXED_BYTES + CRC_BYTES && crcMatchesWithLength(r, n)) {
            return new WireFormatException("minibatch CRC32C mismatch: the length field reads " + declared
                    + " but the record has " + n + " bytes, and checks out with " + n + " (corrupt length field)");
        }
        if (declared > n) {
            return truncated("the header declares " + declared + " bytes, got " + n
                    + " (cut off in transit, or by a message size limit?)");
        }
        return new WireFormatException("minibatch length mismatch: the header declares " + declared
                + " bytes but the record has " + n + " (trailing bytes, or a corrupt length field)");
    }

    /** CRC of the record as if its length field said {@code length}. */
    private static boolean crcMatchesWithLength(byte[] r, int length) {
        CRC32C crc = new CRC32C();
        crc.update(r, 0, PREFIX_BYTES);
        crc.update(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(length).array());
        crc.update(r, V1_LENGTH_END, r.length - CRC_BYTES - V1_LENGTH_END);
        return crc.getValue() == u32(r, r.length - CRC_BYTES);
    }

    /** Reads modality .. payload; {@code buf} spans the body between the length field and the CRC. */
    private Minibatch readV1Body(ByteBuffer buf) {
        Modality modality = Modality.fromWireId(buf.get() & 0xff);
        DType dtype = DType.fromWireId(buf.get() & 0xff);
        int flags = buf.get() & 0xff;
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException("unknown flag bits 0x" + Integer.toHexString(flags & ~KNOWN_FLAGS));
        }
        int rank = buf.get() & 0xff;
        if (rank < 1 || rank > Minibatch.MAX_RANK) {
            throw new IllegalArgumentException("rank " + rank + " outside 1.." + Minibatch.MAX_RANK);
        }
        need(buf, 4L * rank + 16, "shape, config hash and time");
        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = buf.getInt();
        }
        long payloadBytes = Minibatch.payloadBytes(shape, dtype); // checks dims before anything is allocated
        long configHash = buf.getLong();
        long createdAtMs = buf.getLong();
        int b = shape[0];
        need(buf, 2L * b, b + " sample ids");
        List<String> ids = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            int len = buf.getShort() & 0xffff;
            ids.add(utf8(buf, len, "sample id " + i));
        }
        int[] validLengths = ints(buf, b, "valid lengths");
        int[] labels = (flags & FLAG_LABELS) != 0 ? ints(buf, b, "labels") : null;
        byte[] payload = (flags & FLAG_BLOB_REF) != 0 ? fetchBlob(buf, payloadBytes) : bytes(buf, payloadBytes, "payload");
        if (buf.hasRemaining()) {
            throw new IllegalArgumentException(buf.remaining() + " unexpected bytes between the payload and the CRC");
        }
        return new Minibatch(modality, dtype, shape, ids, validLengths, labels, (flags & FLAG_PARTIAL) != 0,
                configHash, createdAtMs, payload);
    }

    private byte[] fetchBlob(ByteBuffer buf, long payloadBytes) {
        need(buf, 2, "blob reference length");
        int len = buf.getShort() & 0xffff;
        if (len == 0 || len > MAX_REF_BYTES) {
            throw new IllegalArgumentException("blob reference of " + len + " bytes (allowed 1.." + MAX_REF_BYTES + ")");
        }
        String ref = utf8(buf, len, "blob reference");
        need(buf, 4, "payload CRC32C");
        long expectedCrc = buf.getInt() & 0xffff_ffffL;
        if (blobs == null) {
            throw new WireFormatException("minibatch payload is stored by reference (" + ref + ") but this decoder has"
                    + " no blob store: build it with MinibatchCodec.withBlobStore(...) on the writer's store");
        }
        byte[] payload;
        try {
            payload = blobs.get(ref);
        } catch (WireFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new WireFormatException("cannot fetch minibatch payload " + ref + " from " + blobs + ": " + e.getMessage(), e);
        }
        if (payload.length != payloadBytes || crc32c(payload, 0, payload.length) != expectedCrc) {
            throw new WireFormatException("blob " + ref + " does not match its minibatch record: " + payload.length
                    + " bytes (expected " + payloadBytes + "), CRC32C " + Long.toHexString(crc32c(payload, 0, payload.length))
                    + " (expected " + Long.toHexString(expectedCrc) + ")");
        }
        return payload;
    }

    // ------------------------------------------------------------------ bounded readers (never allocate more than is there)

    private static void need(ByteBuffer buf, long bytes, String what) {
        if (bytes > buf.remaining()) {
            throw new IllegalArgumentException(what + " need " + bytes + " bytes but only " + buf.remaining()
                    + " remain before the CRC");
        }
    }

    private static int[] ints(ByteBuffer buf, int count, String what) {
        need(buf, 4L * count, what);
        int[] out = new int[count];
        buf.asIntBuffer().get(out);
        buf.position(buf.position() + 4 * count);
        return out;
    }

    private static byte[] bytes(ByteBuffer buf, long count, String what) {
        need(buf, count, what);
        byte[] out = new byte[(int) count];
        buf.get(out);
        return out;
    }

    private static String utf8(ByteBuffer buf, int len, String what) {
        return new String(bytes(buf, len, what), StandardCharsets.UTF_8);
    }

    private static WireFormatException truncated(String detail) {
        return new WireFormatException("truncated minibatch: " + detail);
    }

    static long crc32c(byte[] bytes, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, off, len);
        return crc.getValue();
    }

    private static int u16(byte[] r, int off) {
        return (r[off] & 0xff) | (r[off + 1] & 0xff) << 8;
    }

    private static long u32(byte[] r, int off) {
        return ByteBuffer.wrap(r, off, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffff_ffffL;
    }

    private static String hexPrefix(byte[] r, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(r.length, max); i++) {
            sb.append(String.format("%02x", r[i] & 0xff));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return blobs == null ? "MinibatchCodec[v" + VERSION + ", inline]"
                : "MinibatchCodec[v" + VERSION + ", blobs above " + inlineLimitBytes + " bytes -> " + blobs + "]";
    }
}
