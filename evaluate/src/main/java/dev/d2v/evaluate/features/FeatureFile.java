package dev.d2v.evaluate.features;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The feature cache's file format, version 1 (all integers little-endian):
 * <pre>
 *   0   4        magic "D2VF"
 *   4   2        version u16 = 1
 *   6   2 + k    key: u16 byte length k, UTF-8 of {@link FeatureKey#describe()}
 *       4        rows N, i32 &gt;= 0
 *       4        dims D, i32 &gt;= 0
 *       4 N      labels, i32
 *       4 N D    features, fp32, row-major
 *   end-4 4      CRC32C of every byte before it, u32
 * </pre>
 * Reading checks magic, version, that the file length matches N and D (before allocating), the CRC, then the key.
 */
public final class FeatureFile {
    public static final int VERSION = 1;
    static final byte[] MAGIC = {'D', '2', 'V', 'F'};

    private FeatureFile() {
    }

    /** Writes {@code set} for {@code key} to {@code file} (not atomically: the cache writes a temp file and renames it). */
    public static void write(Path file, FeatureKey key, FeatureSet set) throws IOException {
        byte[] keyBytes = key.describe().getBytes(StandardCharsets.UTF_8);
        if (keyBytes.length > 0xFFFF) {
            throw new IllegalArgumentException("feature key too long: " + keyBytes.length + " bytes");
        }
        CRC32C crc = new CRC32C();
        try (OutputStream raw = Files.newOutputStream(file);
             CheckedOutputStream out = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 16), crc)) {
            ByteBuffer head = le(4 + 2 + 2 + keyBytes.length + 8);
            head.put(MAGIC).putShort((short) VERSION).putShort((short) keyBytes.length).put(keyBytes);
            head.putInt(set.rows()).putInt(set.dims());
            out.write(head.array());
            ByteBuffer labels = le(4 * set.rows());
            for (int label : set.labels()) {
                labels.putInt(label);
            }
            out.write(labels.array());
            ByteBuffer row = le(4 * set.dims());
            for (float[] r : set.features()) {
                row.clear();
                for (float v : r) {
                    row.putFloat(v);
                }
                out.write(row.array());
            }
            out.flush();
            raw.write(le(4).putInt((int) crc.getValue()).array()); // the CRC itself is outside the checksum
        }
    }

    /** Reads a file written for {@code expected}; any defect is a {@link FeatureFileException} saying which. */
    public static FeatureSet read(Path file, FeatureKey expected) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String where = file.getFileName().toString();
        if (bytes.length < 10 || bytes[0] != MAGIC[0] || bytes[1] != MAGIC[1] || bytes[2] != MAGIC[2] || bytes[3] != MAGIC[3]) {
            throw new FeatureFileException("not a feature cache file (no D2VF magic): " + where);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(4);
        int version = buf.getShort() & 0xFFFF;
        if (version != VERSION) {
            throw new FeatureFileException("unknown feature cache file version " + version + " (this build reads "
                    + VERSION + "): " + where);
        }
        int keyLength = buf.getShort() & 0xFFFF;
        if (buf.remaining() < keyLength + 8 + 4) {
            throw new FeatureFileException("truncated feature cache file (header): " + where);
        }
        byte[] keyBytes = new byte[keyLength];
        buf.get(keyBytes);
        int rows = buf.getInt();
        int dims = buf.getInt();
        long expectedLength = buf.position() + 4L * rows + 4L * rows * dims + 4;
        if (rows < 0 || dims < 0 || expectedLength != bytes.length) {
            throw new FeatureFileException("truncated or corrupt feature cache file: " + bytes.length + " bytes, header says "
                    + rows + " x " + dims + " (" + expectedLength + " bytes): " + where);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != (int) crc.getValue()) {
            throw new FeatureFileException(String.format("feature cache file CRC32C mismatch (stored %08x, computed %08x): %s",
                    stored, (int) crc.getValue(), where));
        }
        String key = new String(keyBytes, StandardCharsets.UTF_8);
        if (!key.equals(expected.describe())) {
            throw new FeatureFileException("feature cache file holds '" + key + "', expected '" + expected.describe() + "': " + where);
        }
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = buf.getInt();
        }
        float[][] features = new float[rows][dims];
        for (float[] row : features) {
            buf.asFloatBuffer().get(row);
            buf.position(buf.position() + 4 * dims);
        }
        return new FeatureSet(features, labels);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
