package dev.d2v.ingest.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic of two zero bytes,
 * a type byte (0x08 = unsigned byte, the only one these sets use), a dimension count, then one big-endian
 * int32 per dimension and the data in row-major order.
 *
 * @param dims  sizes, e.g. [60000, 28, 28] for images or [60000] for labels
 * @param data  the values, unsigned bytes, length = product of dims
 */
public record Idx(int[] dims, byte[] data) {

    public static final int TYPE_UNSIGNED_BYTE = 0x08;

    /** Parses a whole IDX file held in memory; fails with a message naming what is wrong. */
    public static Idx parse(byte[] bytes) throws IOException {
        if (bytes.length < 4) {
            throw new IOException("not an IDX file: " + bytes.length + " bytes, fewer than the 4-byte magic");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes); // big-endian by default, as IDX is
        if (buf.get() != 0 || buf.get() != 0) {
            throw new IOException(String.format("not an IDX file: magic starts 0x%02x%02x, expected 0x0000",
                    bytes[0], bytes[1]));
        }
        int type = buf.get() & 0xFF;
        if (type != TYPE_UNSIGNED_BYTE) {
            throw new IOException(String.format("IDX type 0x%02x not supported (only 0x08 unsigned byte)", type));
        }
        int rank = buf.get() & 0xFF;
        if (rank == 0 || bytes.length < 4 + 4 * rank) {
            throw new IOException("IDX header truncated or rank 0 (rank " + rank + ", " + bytes.length + " bytes)");
        }
        int[] dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = buf.getInt();
            if (dims[i] < 0) {
                throw new IOException("IDX dimension " + i + " is negative: " + dims[i]);
            }
            size *= dims[i];
        }
        if (buf.remaining() != size) {
            throw new IOException("IDX data holds " + buf.remaining() + " bytes, dims " + Arrays.toString(dims)
                    + " need " + size);
        }
        byte[] data = new byte[(int) size];
        buf.get(data);
        return new Idx(dims, data);
    }

    /** Number of items along the first dimension. */
    public int count() {
        return dims[0];
    }

    /** Bytes per item: the product of the dimensions after the first (784 for 28x28 images, 1 for labels). */
    public int itemSize() {
        int s = 1;
        for (int i = 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    /** Item i as a fresh array of itemSize() bytes. */
    public byte[] item(int i) {
        int n = itemSize();
        return Arrays.copyOfRange(data, i * n, (i + 1) * n);
    }

    /** Item i of a rank-1 unsigned byte array, as an int 0..255 (a label). */
    public int label(int i) {
        return data[i] & 0xFF;
    }
}
