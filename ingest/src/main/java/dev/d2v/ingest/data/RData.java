package dev.d2v.ingest.data;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/**
 * A reader for the subset of R's serialization format (XDR, versions 2 and 3; R Internals, "Serialization
 * Formats") that package data uses, and for R's lazy-load databases (data/Rdata.rdx + Rdata.rdb).
 *
 * <p>Values map to Java as: NULL -> null; character vector -> {@link RVector} of String (NA -> null);
 * integer/logical -> int[]; double -> double[]; list -> Object[]; pairlist -> Map tag->value; symbol ->
 * {@link RSymbol}. Attributes sit beside the data in {@link RVector}. Anything else (closures, environments,
 * ALTREP, bytecode) fails with {@link IOException} so callers can fall back to R itself.
 */
final class RData {
    private RData() {
    }

    /** A symbol (name). */
    record RSymbol(String name) {
    }

    /**
     * A vector with its attributes.
     *
     * @param type        the SEXP type (16 = character, 13 = integer, 10 = logical, 14 = double, 19 = list)
     * @param data        String[], int[], double[] or Object[] by type
     * @param attributes  tag -> value ("names", "class", ...), empty when none
     */
    record RVector(int type, Object data, Map<String, Object> attributes) {
        String[] strings() {
            return (String[]) data;
        }

        int[] ints() {
            return (int[]) data;
        }

        Object[] list() {
            return (Object[]) data;
        }

        /** The "names" attribute as strings, or null. */
        String[] names() {
            Object n = attributes.get("names");
            return n instanceof RVector v && v.data instanceof String[] s ? s : null;
        }

        /** Element by name in a named list, or null. */
        Object get(String name) {
            String[] names = names();
            for (int i = 0; names != null && i < names.length; i++) {
                if (name.equals(names[i])) {
                    return list()[i];
                }
            }
            return null;
        }
    }

    // SEXP types and pseudo-types (R's serialize.c)
    static final int NILSXP = 0, SYMSXP = 1, LISTSXP = 2, CHARSXP = 9, LGLSXP = 10, INTSXP = 13, REALSXP = 14,
            STRSXP = 16, VECSXP = 19, EXPRSXP = 20, REFSXP = 255, NILVALUE_SXP = 254, EMPTYENV_SXP = 242,
            BASEENV_SXP = 241, GLOBALENV_SXP = 253, MISSINGARG_SXP = 251, BASENAMESPACE_SXP = 247;
    private static final int IS_OBJECT = 1 << 8, HAS_ATTR = 1 << 9, HAS_TAG = 1 << 10;
    private static final int LATIN1_MASK = 1 << 2;

    /** Unserializes one value from a complete XDR stream ("X\n" header). */
    static Object unserialize(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        byte[] magic = new byte[2];
        in.readFully(magic);
        if (magic[0] != 'X' || magic[1] != '\n') {
            throw new IOException("R serialization format '" + (char) magic[0]
                    + "' not supported (only XDR binary 'X')");
        }
        int version = in.readInt();
        in.readInt(); // R version that wrote it
        in.readInt(); // minimal R version to read it
        if (version == 3) {
            int n = in.readInt();
            in.skipNBytes(n); // native encoding name, e.g. "UTF-8"
        } else if (version != 2) {
            throw new IOException("R serialization version " + version + " not supported (2 or 3)");
        }
        return new Reader(in).item();
    }

    private static final class Reader {
        private final DataInputStream in;
        private final List<Object> refs = new ArrayList<>(); // symbols (and environments) by reference index

        Reader(DataInputStream in) {
            this.in = in;
        }

        Object item() throws IOException {
            int flags = in.readInt();
            int type = flags & 0xFF;
            boolean hasAttr = (flags & HAS_ATTR) != 0;
            boolean hasTag = (flags & HAS_TAG) != 0;
            switch (type) {
                case NILVALUE_SXP, EMPTYENV_SXP, BASEENV_SXP, GLOBALENV_SXP, MISSINGARG_SXP, BASENAMESPACE_SXP -> {
                    return null;
                }
                case REFSXP -> {
                    int idx = flags >>> 8;
                    if (idx == 0) {
                        idx = in.readInt();
                    }
                    if (idx < 1 || idx > refs.size()) {
                        throw new IOException("R reference " + idx + " outside 1.." + refs.size());
                    }
                    return refs.get(idx - 1);
                }
                case SYMSXP -> {
                    Object name = item(); // a CHARSXP
                    RSymbol s = new RSymbol((String) name);
                    refs.add(s);
                    return s;
                }
                case LISTSXP -> {
                    return pairlist(flags);
                }
                case CHARSXP -> {
                    return charsxp(flags);
                }
                default -> {
                    // vectors
                }
            }
            if (hasTag) {
                throw new IOException("R type " + type + " with a tag not supported");
            }
            int n = length();
            Object data;
            switch (type) {
                case STRSXP -> {
                    String[] s = new String[n];
                    for (int i = 0; i < n; i++) {
                        s[i] = (String) item();
                    }
                    data = s;
                }
                case INTSXP, LGLSXP -> {
                    int[] v = new int[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = in.readInt();
                    }
                    data = v;
                }
                case REALSXP -> {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = in.readDouble();
                    }
                    data = v;
                }
                case VECSXP, EXPRSXP -> {
                    Object[] v = new Object[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = item();
                    }
                    data = v;
                }
                default -> throw new IOException("R type " + type + " not supported by this reader");
            }
            Map<String, Object> attrs = hasAttr ? attributes() : Map.of();
            return new RVector(type, data, attrs);
        }

        /** A pairlist as tag -> value (untagged cells get "" + position); iterative along the CDR chain. */
        private Map<String, Object> pairlist(int flags) throws IOException {
            Map<String, Object> out = new LinkedHashMap<>();
            while (true) {
                if ((flags & HAS_ATTR) != 0) {
                    item(); // attributes of a pairlist cell: not needed
                }
                String tag = String.valueOf(out.size());
                if ((flags & HAS_TAG) != 0) {
                    Object t = item();
                    tag = t instanceof RSymbol s ? s.name() : tag;
                }
                out.put(tag, item());
                flags = in.readInt(); // the CDR: another cell or the end
                int type = flags & 0xFF;
                if (type == NILVALUE_SXP) {
                    return out;
                }
                if (type != LISTSXP) {
                    throw new IOException("pairlist CDR of type " + type + " not supported");
                }
            }
        }

        private Map<String, Object> attributes() throws IOException {
            Object a = item();
            if (!(a instanceof Map<?, ?> m)) {
                throw new IOException("R attributes are not a pairlist");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> attrs = (Map<String, Object>) m;
            return attrs;
        }

        private String charsxp(int flags) throws IOException {
            int n = in.readInt();
            if (n == -1) {
                return null; // NA_character_
            }
            byte[] b = in.readNBytes(n);
            if (b.length != n) {
                throw new EOFException("R string truncated");
            }
            int levels = flags >>> 12;
            return new String(b, (levels & LATIN1_MASK) != 0 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        }

        private int length() throws IOException {
            int n = in.readInt();
            if (n == -1) { // long vector: two more ints
                long len = ((long) in.readInt() << 32) | (in.readInt() & 0xFFFFFFFFL);
                if (len > Integer.MAX_VALUE - 8) {
                    throw new IOException("R vector of " + len + " elements too long");
                }
                return (int) len;
            }
            return n;
        }
    }

    /**
     * Reads every variable of a lazy-load database ({@code <base>.rdx} index + {@code <base>.rdb} values),
     * in the index's order. The index is a gzip (saveRDS) or length-prefixed zlib serialized list with
     * "variables" (name -> c(offset, length)) and "compressed" (TRUE = zlib); each value in the .rdb is a
     * 4-byte big-endian uncompressed length then a zlib stream.
     */
    static Map<String, Object> readLazyLoadDb(Path base) throws IOException {
        Path rdx = base.resolveSibling(base.getFileName() + ".rdx");
        Path rdb = base.resolveSibling(base.getFileName() + ".rdb");
        Object index = unserialize(decompressIndex(Files.readAllBytes(rdx)));
        if (!(index instanceof RVector idx) || !(idx.get("variables") instanceof RVector vars)) {
            throw new IOException(rdx + " is not a lazy-load index (no 'variables')");
        }
        Object compressed = idx.get("compressed");
        if (compressed instanceof RVector c && c.data() instanceof int[] v && v.length == 1 && v[0] != 1) {
            throw new IOException(rdx + ": compression type " + v[0] + " not supported (only zlib)");
        }
        if (compressed instanceof RVector c && c.data() instanceof double[] v && v.length == 1 && v[0] != 1) {
            throw new IOException(rdx + ": compression type " + v[0] + " not supported (only zlib)");
        }
        byte[] db = Files.readAllBytes(rdb);
        Map<String, Object> out = new LinkedHashMap<>();
        String[] names = vars.names();
        for (int i = 0; i < names.length; i++) {
            int[] pos = ((RVector) vars.list()[i]).ints(); // [offset, length] in bytes
            out.put(names[i], unserialize(inflateEntry(db, pos[0], pos[1])));
        }
        return out;
    }

    private static byte[] decompressIndex(byte[] raw) throws IOException {
        if (raw.length > 2 && (raw[0] & 0xFF) == 0x1f && (raw[1] & 0xFF) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                return in.readAllBytes();
            }
        }
        return inflateEntry(raw, 0, raw.length);
    }

    /** A length-prefixed zlib block: 4-byte big-endian uncompressed size, then the zlib stream. */
    static byte[] inflateEntry(byte[] buf, int offset, int length) throws IOException {
        if (offset < 0 || length < 4 || offset + length > buf.length) {
            throw new IOException("lazy-load entry [" + offset + ", +" + length + ") outside " + buf.length + " bytes");
        }
        int size = ByteBuffer.wrap(buf, offset, 4).getInt();
        Inflater inf = new Inflater();
        try {
            inf.setInput(buf, offset + 4, length - 4);
            byte[] out = new byte[size];
            int n = 0;
            while (n < size && !inf.finished()) {
                int k = inf.inflate(out, n, size - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
                n += k;
            }
            if (n != size) {
                throw new IOException("lazy-load entry inflated to " + n + " bytes, header says " + size);
            }
            return out;
        } catch (DataFormatException e) {
            throw new IOException("lazy-load entry is not zlib data: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }
}
