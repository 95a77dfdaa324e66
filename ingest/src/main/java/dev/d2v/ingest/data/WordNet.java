package dev.d2v.ingest.data;

import dev.d2v.infra.Modality;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * WordNet 3.0 from the Debian package wordnet-base (/usr/share/wordnet/data.{noun,verb,adj,adv}).
 *
 * <ul>
 *   <li>unlabeled.jsonl: one line per synset of all four parts of speech, its whole gloss (definition plus
 *       quoted examples), {"text", "id"}: the text pretraining corpus.</li>
 *   <li>train.jsonl / test.jsonl: the probe, noun supersense from the definition alone (the gloss without
 *       its examples), label = the lexicographer file ("noun.animal"), 26 classes;
 *       test when CRC32("noun:" + offset) % 10 &lt; 2.</li>
 * </ul>
 * Rows follow file order (by synset offset). The unlabeled corpus also holds the probe's test definitions,
 * without labels; as usual for self-supervised pretraining on the same corpus.
 */
public final class WordNet implements Dataset {
    public static final String PACKAGE = "wordnet-base";
    public static final Path DEFAULT_DIR = Path.of("/usr/share/wordnet");
    static final List<String> POS_FILES = List.of("noun", "verb", "adj", "adv");

    /** WordNet's lexnames list: index = lex_filenum (2 digits in data files). Nouns are 03..28. */
    static final List<String> LEXNAMES = List.of(
            "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
            "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
            "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
            "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
            "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change",
            "verb.cognition", "verb.communication", "verb.competition", "verb.consumption", "verb.contact",
            "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social",
            "verb.stative", "verb.weather", "adj.ppl");

    /**
     * One line of a data.* file.
     *
     * @param offset      8-digit byte offset, the synset's id within its part of speech
     * @param lexFile     lexicographer file number (index into LEXNAMES)
     * @param ssType      n, v, a, s (adjective satellite) or r
     * @param words       the synset's words as written (underscores for spaces), adjective markers removed
     * @param definition the gloss without its quoted examples
     * @param examples    the quoted examples, quotes removed
     */
    public record Synset(String offset, int lexFile, char ssType, List<String> words, String gloss,
                         String definition, List<String> examples) {
        public String lexName() {
            return LEXNAMES.get(lexFile);
        }
    }

    private final Path sourceDir;

    public WordNet() {
        this(DEFAULT_DIR);
    }

    public WordNet(Path sourceDir) {
        this.sourceDir = sourceDir;
    }

    @Override
    public String name() {
        return "wordnet";
    }

    @Override
    public Modality modality() {
        return Modality.TEXT;
    }

    @Override
    public String description() {
        return "WordNet 3.0 glosses (text corpus) and noun supersense probe, 26 classes (debian " + PACKAGE + ")";
    }

    /** Whether a noun synset belongs to the probe's test split: CRC32("noun:" + offset) % 10 < 2 (about 20%). */
    public static boolean isTest(String offset) {
        CRC32 crc = new CRC32();
        crc.update(("noun:" + offset).getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % 10 < 2;
    }

    /** True for the license lines at the head of each data file (they start with two spaces). */
    static boolean isHeader(String line) {
        return line.startsWith("  ");
    }

    /** Parses one synset line of a data.* file (see wndb(5)). */
    public static Synset parseLine(String line) {
        int bar = line.indexOf(" | ");
        if (bar < 0) {
            throw new IllegalArgumentException("WordNet data line without ' | ' gloss: " + abbreviate(line));
        }
        String[] f = line.substring(0, bar).trim().split(" ");
        if (f.length < 4 || f[0].length() != 8 || f[1].length() != 2) {
            throw new IllegalArgumentException("not a WordNet synset line: " + abbreviate(line));
        }
        int lexFile = Integer.parseInt(f[1]);
        if (lexFile >= LEXNAMES.size()) {
            throw new IllegalArgumentException("lex_filenum " + f[1] + " outside 00.." + (LEXNAMES.size() - 1));
        }
        int wordCount = Integer.parseInt(f[3], 16); // w_cnt is two hexadecimal digits
        List<String> words = new ArrayList<>(wordCount);
        for (int i = 0; i < wordCount; i++) {
            words.add(f[4 + 2 * i].replaceFirst("\\((a|p|ip)\\)$", ""));
        }
        String gloss = line.substring(bar + 3).strip();
        List<String> parts = splitGloss(gloss);
        List<String> def = new ArrayList<>();
        List<String> examples = new ArrayList<>();
        for (String p : parts) {
            if (p.startsWith("\"")) {
                int end = p.lastIndexOf('"');
                examples.add(end > 0 ? p.substring(1, end) : p.substring(1));
            } else if (!p.isEmpty()) {
                def.add(p);
            }
        }
        return new Synset(f[0], lexFile, f[2].charAt(0), List.copyOf(words), gloss, String.join("; ", def),
                List.copyOf(examples));
    }

    /**
     * Splits a gloss at "; " outside double quotes, so an example holding a semicolon stays whole. With
     * unbalanced quotes (a few glosses) it falls back to a plain split.
     */
    static List<String> splitGloss(String gloss) {
        List<String> out = new ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < gloss.length(); i++) {
            char c = gloss.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == ';' && i + 1 < gloss.length() && gloss.charAt(i + 1) == ' ') {
                out.add(gloss.substring(start, i).strip());
                start = i + 2;
            }
        }
        out.add(gloss.substring(start).strip());
        if (quoted) {
            return List.of(gloss.split("; ")).stream().map(String::strip).toList();
        }
        return out;
    }

    /** All synsets of one data file in file order. */
    List<Synset> read(String pos) throws IOException {
        Path f = sourceDir.resolve("data." + pos);
        if (!Files.isRegularFile(f)) {
            throw new IOException("WordNet file " + f + " not found: install the Debian package "
                    + "(apt-get install " + PACKAGE + ")");
        }
        List<Synset> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (isHeader(line) || line.isBlank()) {
                    continue;
                }
                try {
                    out.add(parseLine(line));
                } catch (IllegalArgumentException e) {
                    throw new IOException(f + " line " + n + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        List<Map<String, String>> unlabeled = new ArrayList<>();
        List<Map<String, String>> train = new ArrayList<>();
        List<Map<String, String>> test = new ArrayList<>();
        TreeSet<String> classes = new TreeSet<>();
        for (String pos : POS_FILES) {
            for (Synset s : read(pos)) {
                String id = "wordnet/" + pos + "/" + s.offset();
                unlabeled.add(DataFiles.row("text", s.gloss(), "id", id));
                if (pos.equals("noun") && !s.definition().isEmpty()) {
                    classes.add(s.lexName());
                    (isTest(s.offset()) ? test : train).add(DataFiles.row("text", s.definition(), "label", s.lexName(), "id", id));
                }
            }
        }
        DataFiles.prepareEmpty(root);
        List<Map<String, String>> trainOut = DataFiles.cap(train, ctx.limit());
        List<Map<String, String>> testOut = DataFiles.cap(test, ctx.limit());
        List<Map<String, String>> unlabeledOut = DataFiles.cap(unlabeled, ctx.limit());
        DataFiles.writeJsonl(root.resolve("train.jsonl"), trainOut);
        DataFiles.writeJsonl(root.resolve("test.jsonl"), testOut);
        DataFiles.writeJsonl(root.resolve("unlabeled.jsonl"), unlabeledOut);
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("train", trainOut.size());
        counts.put("test", testOut.size());
        counts.put("unlabeled", unlabeledOut.size());
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, name(), modality().name().toLowerCase(), counts,
                classes.size(), "noun synsets: test when CRC32(UTF-8 \"noun:\" + 8-digit offset) % 10 < 2, else train"
                + (ctx.limit() > 0 ? "; first " + ctx.limit() + " per split in file order" : ""),
                ctx.seed(), "debian " + PACKAGE + " " + DataFiles.debianVersion(PACKAGE), Map.of(), DataFiles.now());
        m.write(root);
        ctx.progress().accept("wordnet: " + counts);
        return m;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
