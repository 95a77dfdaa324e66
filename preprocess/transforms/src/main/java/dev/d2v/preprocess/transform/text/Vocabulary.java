package dev.d2v.preprocess.transform.text;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.util.StringHelper;

/**
 * Token ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the vocabulary words 5..5+N-1 (most frequent
 * first), then {@code buckets} hash buckets 5+N..5+N+buckets-1 for out-of-vocabulary words
 * (murmur3_x86_32 of the UTF-8 token, seed 0, mod buckets; [UNK] only when buckets = 0).
 * Immutable and thread-safe. {@link #contentHash()} identifies the mapping and travels with every batch.
 */
public final class Vocabulary {

    public static final int FORMAT_VERSION = 1;
    public static final String MAGIC = "d2v-vocab";
    public static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    public static final int PAD = 0;
    public static final int UNK = 1;
    public static final int CLS = 2;
    public static final int SEP = 3;
    public static final int MASK = 4;
    static final String HASH_FUNCTION = "murmur3_x86_32-seed0-utf8";

    private final TextTransformConfig.AnalyzerKind analyzer;
    private final List<String> words; // id - SPECIALS.size() -> word
    private final long[] counts; // corpus frequency of each word (informational)
    private final int buckets;
    private final Map<String, Integer> ids;
    private final long contentHash;

    Vocabulary(TextTransformConfig.AnalyzerKind analyzer, List<String> words, long[] counts, int buckets) {
        this.analyzer = analyzer;
        this.words = List.copyOf(words);
        this.counts = counts.clone();
        this.buckets = buckets;
        this.ids = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            if (ids.put(words.get(i), SPECIALS.size() + i) != null) {
                throw new IllegalArgumentException("vocabulary lists the word '" + words.get(i) + "' twice");
            }
        }
        this.contentHash = computeHash();
    }

    /**
     * The top vocabSize tokens of the corpus by frequency, ties broken by the token's natural String order,
     * so the same corpus always gives the same ids whatever the iteration order of the texts.
     */
    public static Vocabulary build(Iterable<String> texts, TextAnalysis analysis, TextTransformConfig cfg) {
        Map<String, Long> freq = new HashMap<>();
        for (String text : texts) {
            for (String t : analysis.tokens(text)) {
                freq.merge(t, 1L, Long::sum);
            }
        }
        List<Map.Entry<String, Long>> entries = new ArrayList<>(freq.entrySet());
        entries.sort(Map.Entry.<String, Long>comparingByValue(Collections.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()));
        int n = Math.min(cfg.vocabSize(), entries.size());
        List<String> words = new ArrayList<>(n);
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            words.add(entries.get(i).getKey());
            counts[i] = entries.get(i).getValue();
        }
        return new Vocabulary(cfg.analyzer(), words, counts, cfg.buckets());
    }

    /** Id of an analysed token: its word id, else its hash bucket, else [UNK]. */
    public int id(String token) {
        Integer id = ids.get(token);
        if (id != null) {
            return id;
        }
        if (buckets == 0) {
            return UNK;
        }
        byte[] utf8 = token.getBytes(StandardCharsets.UTF_8);
        int h = StringHelper.murmurhash3_x86_32(utf8, 0, utf8.length, 0);
        return SPECIALS.size() + words.size() + Math.floorMod(h, buckets);
    }

    /** Number of ids: specials + words + buckets (the embedding table's rows). */
    public int size() {
        return SPECIALS.size() + words.size() + buckets;
    }

    public int wordCount() {
        return words.size();
    }

    public int buckets() {
        return buckets;
    }

    public TextTransformConfig.AnalyzerKind analyzer() {
        return analyzer;
    }

    /** The word with this id, a special token, "[BUCKET n]" or null when out of range. */
    public String token(int id) {
        if (id >= 0 && id < SPECIALS.size()) {
            return SPECIALS.get(id);
        }
        int w = id - SPECIALS.size();
        if (w >= 0 && w < words.size()) {
            return words.get(w);
        }
        int b = w - words.size();
        return b >= 0 && b < buckets ? "[BUCKET " + b + "]" : null;
    }

    /** First 8 bytes of SHA-256 over the mapping (format, analyzer, specials, buckets, hash, words in order). */
    public long contentHash() {
        return contentHash;
    }

    private long computeHash() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            String header = MAGIC + ' ' + FORMAT_VERSION + '\n' + analyzer + '\n' + String.join(" ", SPECIALS) + '\n'
                    + buckets + '\n' + HASH_FUNCTION + '\n';
            sha.update(header.getBytes(StandardCharsets.UTF_8));
            for (String w : words) {
                sha.update(escape(w).getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides SHA-256", e);
        }
    }

    /**
     * Text file, UTF-8 ({@link #toBytes}): header lines "d2v-vocab 1", "analyzer STANDARD", "specials [PAD] ...",
     * "buckets 1024", "hash murmur3_x86_32-seed0-utf8", "content-hash &lt;hex&gt;", "words N", then one
     * "word\tcount" line per word in id order (backslash, tab, CR and LF in words escaped).
     */
    public void save(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
            Files.writeString(tmp, text(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write vocabulary " + file, e);
        }
    }

    /**
     * The bytes {@link #save} writes, e.g. to ship the vocabulary inside a job graph; {@link #load(byte[], String)}
     * reads them back.
     */
    public byte[] toBytes() {
        return text().getBytes(StandardCharsets.UTF_8);
    }

    private String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(MAGIC).append(' ').append(FORMAT_VERSION).append('\n');
        sb.append("analyzer ").append(analyzer).append('\n');
        sb.append("specials ").append(String.join(" ", SPECIALS)).append('\n');
        sb.append("buckets ").append(buckets).append('\n');
        sb.append("hash ").append(HASH_FUNCTION).append('\n');
        sb.append("content-hash ").append(Long.toHexString(contentHash)).append('\n');
        sb.append("words ").append(words.size()).append('\n');
        for (int i = 0; i < words.size(); i++) {
            sb.append(escape(words.get(i))).append('\t').append(counts[i]).append('\n');
        }
        return sb.toString();
    }

    /** Reads a file written by {@link #save}; checks the version, the header and the stored content hash. */
    public static Vocabulary load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + file, e);
        }
        return load(bytes, file.toString());
    }

    /**
     * Reads the bytes of a vocabulary file ({@link #save}, {@link #toBytes}) with the checks of {@link #load(Path)}.
     *
     * @param name where the bytes came from, for error messages ("vocabulary &lt;name&gt;: ...")
     */
    public static Vocabulary load(byte[] bytes, String name) {
        List<String> lines = new ArrayList<>();
        // strict UTF-8 (a malformed byte is an error, not U+FFFD), lines split as Files.readAllLines does
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new ByteArrayInputStream(bytes),
                StandardCharsets.UTF_8.newDecoder()))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + name, e);
        }
        String where = "vocabulary " + name + ": ";
        if (lines.size() < 7 || !lines.get(0).startsWith(MAGIC + ' ')) {
            throw new IllegalArgumentException(where + "not a d2v vocabulary file (first line must be '" + MAGIC + " N')");
        }
        int version = Integer.parseInt(lines.get(0).substring(MAGIC.length() + 1).trim());
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(where + "format version " + version + " is not supported (this build reads "
                    + FORMAT_VERSION + "); rebuild the vocabulary");
        }
        TextTransformConfig.AnalyzerKind kind = TextTransformConfig.AnalyzerKind.valueOf(field(lines, 1, "analyzer", where));
        if (!field(lines, 2, "specials", where).equals(String.join(" ", SPECIALS))) {
            throw new IllegalArgumentException(where + "special tokens differ from " + SPECIALS);
        }
        int buckets = Integer.parseInt(field(lines, 3, "buckets", where));
        if (!field(lines, 4, "hash", where).equals(HASH_FUNCTION)) {
            throw new IllegalArgumentException(where + "bucket hash must be " + HASH_FUNCTION);
        }
        long storedHash = Long.parseUnsignedLong(field(lines, 5, "content-hash", where), 16);
        int n = Integer.parseInt(field(lines, 6, "words", where));
        if (lines.size() != 7 + n) {
            throw new IllegalArgumentException(where + "declares " + n + " words but has " + (lines.size() - 7));
        }
        List<String> words = new ArrayList<>(n);
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            String line = lines.get(7 + i);
            int tab = line.lastIndexOf('\t');
            if (tab < 0) {
                throw new IllegalArgumentException(where + "line " + (8 + i) + " is not 'word<TAB>count'");
            }
            words.add(unescape(line.substring(0, tab)));
            counts[i] = Long.parseLong(line.substring(tab + 1));
        }
        Vocabulary v = new Vocabulary(kind, words, counts, buckets);
        if (v.contentHash() != storedHash) {
            throw new IllegalArgumentException(where + "content hash " + Long.toHexString(v.contentHash())
                    + " does not match the stored " + Long.toHexString(storedHash) + " (file edited or corrupt)");
        }
        return v;
    }

    private static String field(List<String> lines, int i, String key, String where) {
        String line = lines.get(i);
        if (!line.startsWith(key + ' ')) {
            throw new IllegalArgumentException(where + "line " + (i + 1) + " must start with '" + key + " '");
        }
        return line.substring(key.length() + 1);
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                sb.append(switch (n) {
                    case 't' -> '\t';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    default -> n;
                });
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
