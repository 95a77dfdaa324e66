package dev.d2v.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors file format (huggingface/safetensors), written and read here so that files carry
 * {@code __metadata__}, have a deterministic byte layout and are validated strictly on read.
 *
 * <pre>
 * u64 LE  N                      header length in bytes
 * N bytes header                 UTF-8 JSON object, padded with spaces to a multiple of 8 (so the data is aligned):
 *                                {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 * data    raw little-endian      row-major elements; offsets are relative to the start of this section
 * </pre>
 *
 * <p>Why not DJL's {@code NDList.encode(SAFETENSORS)} (DJL 0.36 has one): it writes no {@code __metadata__} (the
 * encoder export needs its config there), its header order follows a hash map (bytes differ run to run for the
 * same tensors), and its reader does not check that offsets tile the data section. DJL's reader does read the
 * files written here (see the tests), so the format is the same.
 *
 * <p>Writing: tensors in name order, data contiguous in that order. Reading rejects what the reference reader
 * rejects: a header length beyond the file or above 100 MB, a header that is not a JSON object, an unknown dtype,
 * offsets whose length disagrees with dtype x shape, and offsets that leave holes or overlap in the data section.
 * Supported dtypes: F32, F16, I64, I32, U8.
 */
public final class SafeTensors {

    /** The reference implementation's cap on the header (safetensors MAX_HEADER_SIZE). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {}

    /** One tensor's header entry: dtype string, shape, and [begin, end) in the data section. */
    public record Entry(String dtype, long[] shape, long begin, long end) {
        public long byteLength() {
            return end - begin;
        }

        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A parsed, validated header; {@code entries} in data order; {@code dataStart} = 8 + N. */
    public record Header(Map<String, String> metadata, Map<String, Entry> entries, long dataStart) {}

    /** A file's tensors (name order) in the manager passed to {@link #read}, and its metadata. */
    public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {}

    // ---- dtypes ----

    /** The safetensors dtype string of a DJL type; the five this project stores. */
    public static String dtypeOf(DataType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT16 -> "F16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case UINT8 -> "U8";
            default -> throw new IllegalArgumentException("safetensors writer here stores F32, F16, I64, I32 and U8; got "
                    + t + " (convert it first)");
        };
    }

    static DataType djlType(String dtype) {
        return switch (dtype) {
            case "F32" -> DataType.FLOAT32;
            case "F16" -> DataType.FLOAT16;
            case "I64" -> DataType.INT64;
            case "I32" -> DataType.INT32;
            case "U8" -> DataType.UINT8;
            default -> null;
        };
    }

    static int width(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16" -> 2;
            case "I64" -> 8;
            case "U8" -> 1;
            default -> throw new IllegalArgumentException("unsupported dtype " + dtype);
        };
    }

    // ---- writing ----

    /**
     * Writes {@code tensors} (any order; stored in name order) with {@code metadata} to {@code file}, forces it to
     * disk, and returns the SHA-256 (lower-case hex) of the bytes written.
     */
    public static String write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        TreeMap<String, NDArray> sorted = new TreeMap<>(tensors);
        byte[] header = headerBytes(sorted, metadata);
        MessageDigest sha = Digests.sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len, sha);
            writeFully(ch, ByteBuffer.wrap(header), sha);
            for (NDArray a : sorted.values()) {
                writeFully(ch, littleEndianBytes(a), sha);
            }
            ch.force(true);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The header JSON, metadata first, then tensors in the map's order, space-padded so 8 + N is a multiple of 8. */
    static byte[] headerBytes(Map<String, NDArray> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY) || name.isEmpty()) {
                throw new IllegalArgumentException("tensor name '" + name + "' is reserved or empty");
            }
            NDArray a = e.getValue();
            String dtype = dtypeOf(a.getDataType());
            long bytes = a.getShape().size() * width(dtype);
            ObjectNode t = root.putObject(name);
            t.put("dtype", dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** The array's elements, row-major, little-endian (copied off the device if needed). */
    static ByteBuffer littleEndianBytes(NDArray a) {
        ByteBuffer raw = a.toByteBuffer().order(ByteOrder.nativeOrder());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return raw.order(ByteOrder.LITTLE_ENDIAN);
        }
        return swap(raw, a.getDataType().getNumOfBytes());
    }

    private static ByteBuffer swap(ByteBuffer in, int width) {
        ByteBuffer out = ByteBuffer.allocate(in.remaining());
        for (int i = in.position(); i < in.limit(); i += width) {
            for (int k = width - 1; k >= 0; k--) {
                out.put(in.get(i + k));
            }
        }
        return out.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, MessageDigest sha) throws IOException {
        sha.update(buf.duplicate());
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    // ---- reading ----

    /** Reads and validates the header of {@code file}; throws IOException with what is wrong. */
    public static Header header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return header(ch, file);
        }
    }

    private static Header header(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        String where = "safetensors file " + file + ": ";
        if (size < 8) {
            throw new IOException(where + "only " + size + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, len, 0);
        long n = len.getLong(0);
        if (n <= 0 || n > MAX_HEADER_BYTES || n > size - 8) {
            throw new IOException(where + "header length " + Long.toUnsignedString(n) + " is not within 1.."
                    + Math.min(MAX_HEADER_BYTES, size - 8));
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IOException(where + "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(where + "header is not a JSON object");
        }
        return parseHeader(root, 8 + n, size - 8 - n, where);
    }

    static Header parseHeader(JsonNode root, long dataStart, long dataLength, String where) throws IOException {
        Map<String, String> metadata = new TreeMap<>();
        List<Map.Entry<String, Entry>> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals(METADATA_KEY)) {
                if (!f.getValue().isObject()) {
                    throw new IOException(where + METADATA_KEY + " must be an object of strings");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = f.getValue().fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new IOException(where + METADATA_KEY + "." + kv.getKey() + " must be a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            entries.add(Map.entry(f.getKey(), entry(f.getKey(), f.getValue(), where)));
        }
        entries.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long expected = 0;
        Map<String, Entry> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : entries) {
            if (e.getValue().begin() != expected) {
                throw new IOException(where + "tensor '" + e.getKey() + "' starts at " + e.getValue().begin()
                        + " but the previous one ends at " + expected + " (holes or overlaps in the data section)");
            }
            expected = e.getValue().end();
            ordered.put(e.getKey(), e.getValue());
        }
        if (expected != dataLength) {
            throw new IOException(where + "tensors cover " + expected + " data bytes but the file holds " + dataLength
                    + (expected > dataLength ? " (truncated)" : " (trailing bytes)"));
        }
        return new Header(metadata, ordered, dataStart);
    }

    private static Entry entry(String name, JsonNode t, String where) throws IOException {
        String what = where + "tensor '" + name + "' ";
        if (!t.isObject() || !t.path("dtype").isTextual() || !t.path("shape").isArray()
                || !t.path("data_offsets").isArray() || t.path("data_offsets").size() != 2) {
            throw new IOException(what + "needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" [begin, end]");
        }
        String dtype = t.get("dtype").asText();
        if (djlType(dtype) == null) {
            throw new IOException(what + "has dtype " + dtype + "; this reader takes F32, F16, I64, I32, U8");
        }
        long[] shape = new long[t.get("shape").size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = t.get("shape").get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new IOException(what + "has a shape entry that is not a non-negative integer: " + d);
            }
            shape[i] = d.asLong();
            count = Math.multiplyExact(count, shape[i]);
        }
        JsonNode b = t.get("data_offsets").get(0);
        JsonNode e = t.get("data_offsets").get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || b.asLong() < 0 || e.asLong() < b.asLong()) {
            throw new IOException(what + "has invalid data_offsets " + t.get("data_offsets"));
        }
        long bytes = Math.multiplyExact(count, width(dtype));
        if (e.asLong() - b.asLong() != bytes) {
            throw new IOException(what + "spans " + (e.asLong() - b.asLong()) + " bytes but " + dtype + " "
                    + Arrays.toString(shape) + " needs " + bytes);
        }
        return new Entry(dtype, shape, b.asLong(), e.asLong());
    }

    /** Reads every tensor of {@code file} into {@code manager}, in name order, with the file's metadata. */
    public static Contents read(Path file, NDManager manager) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = header(ch, file);
            Map<String, NDArray> out = new TreeMap<>();
            try {
                for (Map.Entry<String, Entry> e : h.entries().entrySet()) {
                    NDArray a = tensor(ch, h.dataStart(), e.getValue(), manager);
                    a.setName(e.getKey());
                    out.put(e.getKey(), a);
                }
            } catch (IOException | RuntimeException ex) {
                out.values().forEach(NDArray::close);
                throw ex;
            }
            return new Contents(out, h.metadata());
        }
    }

    private static NDArray tensor(FileChannel ch, long dataStart, Entry e, NDManager manager) throws IOException {
        Shape shape = new Shape(e.shape());
        DataType type = djlType(e.dtype());
        if (e.byteLength() == 0) {
            return manager.zeros(shape, type);
        }
        if (e.byteLength() > Integer.MAX_VALUE) {
            throw new IOException("tensor of " + e.byteLength() + " bytes is above the 2 GiB a buffer can hold");
        }
        ByteBuffer buf = ByteBuffer.allocateDirect((int) e.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, dataStart + e.begin());
        buf.flip();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer swapped = swap(buf, width(e.dtype()));
            buf = ByteBuffer.allocateDirect(swapped.remaining()).order(ByteOrder.nativeOrder()).put(swapped).flip();
        }
        return manager.create(buf.order(ByteOrder.nativeOrder()), shape, type);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }
}
