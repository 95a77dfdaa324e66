package dev.d2v.ingest.data;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Jane Austen's six novels from the Debian package r-cran-janeaustenr (one character vector of text lines per
 * novel, in the package's lazy-load database data/Rdata.rdb). Read with {@link RData} without R; when that
 * fails, with {@code Rscript} (r-base-core) as the fallback.
 *
 * <p>Each novel is cut into chapters at heading lines ("CHAPTER I", "Chapter 1", "CHAPTER 1"), numbered by
 * their order within the book (Emma restarts its numerals in each volume; the ordinal does not), and into
 * paragraphs at blank lines; a paragraph's lines are joined with single spaces. Front matter before the first
 * chapter (title page, Northanger Abbey's advertisement) and "VOLUME n" lines are dropped everywhere.
 *
 * <ul>
 *   <li>train.jsonl / test.jsonl: which novel a paragraph of at least 10 words comes from (6 classes,
 *       slugs like pride_and_prejudice); test when chapter % 5 == 0, so whole chapters stay on one side.</li>
 *   <li>unlabeled.jsonl: every paragraph of every chapter (any length), the pretraining corpus.</li>
 * </ul>
 */
public final class Austen implements Dataset {
    public static final String PACKAGE = "r-cran-janeaustenr";
    public static final Path DEFAULT_DIR = Path.of("/usr/lib/R/site-library/janeaustenr");
    /** Probe paragraphs need this many words: shorter ones ("Yes.", "THE END") say little about the book. */
    public static final int MIN_PROBE_WORDS = 10;

    /**
     * @param object the R object name in the package
     * @param title  the title as austen_books() spells it
     * @param label  folder- and label-safe slug
     */
    public record Book(String object, String title, String label) {
    }

    /** In publication order, as austen_books() lists them. */
    public static final List<Book> BOOKS = List.of(
            new Book("sensesensibility", "Sense & Sensibility", "sense_and_sensibility"),
            new Book("prideprejudice", "Pride & Prejudice", "pride_and_prejudice"),
            new Book("mansfieldpark", "Mansfield Park", "mansfield_park"),
            new Book("emma", "Emma", "emma"),
            new Book("northangerabbey", "Northanger Abbey", "northanger_abbey"),
            new Book("persuasion", "Persuasion", "persuasion"));

    /**
     * A paragraph of a novel.
     *
     * @param chapter  1-based chapter ordinal within the book
     * @param index    0-based paragraph position within the book
     */
    public record Paragraph(Book book, int chapter, int index, String text) {
        public int words() {
            return text.isBlank() ? 0 : text.trim().split("\\s+").length;
        }

        public boolean isTest() {
            return Austen.isTest(chapter);
        }

        public String id() {
            return "austen/" + book.label() + "/c" + chapter + "/p" + index;
        }
    }

    private static final Pattern CHAPTER = Pattern.compile("^(CHAPTER|Chapter) [IVXLC0-9]+\\.?$");
    private static final Pattern VOLUME = Pattern.compile("^VOLUME [IVX]+$");

    private final Path packageDir;

    public Austen() {
        this(DEFAULT_DIR);
    }

    /** @param packageDir the installed R package folder (holding data/Rdata.rdb) */
    public Austen(Path packageDir) {
        this.packageDir = packageDir;
    }

    @Override
    public String name() {
        return "austen";
    }

    @Override
    public Modality modality() {
        return Modality.TEXT;
    }

    @Override
    public String description() {
        return "Jane Austen's six novels as paragraphs: text corpus and which-novel probe, 6 classes (debian "
                + PACKAGE + ")";
    }

    /** The probe's split rule: whole chapters go to test when their number within the book is a multiple of 5. */
    public static boolean isTest(int chapter) {
        return chapter % 5 == 0;
    }

    /** Cuts one novel's lines into paragraphs of its chapters (front matter and VOLUME lines dropped). */
    public static List<Paragraph> paragraphs(Book book, List<String> lines) {
        List<Paragraph> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int chapter = 0;
        for (String raw : lines) {
            String line = raw == null ? "" : raw.strip();
            boolean heading = CHAPTER.matcher(line).matches();
            if (line.isEmpty() || heading || VOLUME.matcher(line).matches()) {
                if (cur.length() > 0 && chapter > 0) {
                    out.add(new Paragraph(book, chapter, out.size(), cur.toString()));
                }
                cur.setLength(0);
                chapter += heading ? 1 : 0;
            } else {
                cur.append(cur.length() > 0 ? " " : "").append(line);
            }
        }
        if (cur.length() > 0 && chapter > 0) {
            out.add(new Paragraph(book, chapter, out.size(), cur.toString()));
        }
        return out;
    }

    /** The novels' lines by R object name, and which decoder produced them. */
    record Texts(Map<String, List<String>> lines, String decoder) {
    }

    /** Reads the novels with the pure-Java decoder, falling back to Rscript when it fails. */
    Texts load(Consumer<String> progress) throws IOException {
        Path rdb = packageDir.resolve("data/Rdata.rdb");
        if (!Files.isRegularFile(rdb)) {
            throw new IOException("janeaustenr data " + rdb + " not found: install the Debian package "
                    + "(apt-get install " + PACKAGE + ")");
        }
        try {
            return new Texts(loadPure(), "java R serialization reader (XDR v2/v3)");
        } catch (IOException | RuntimeException e) {
            progress.accept("austen: pure-Java R decoding failed (" + e.getMessage() + "), trying Rscript");
            return new Texts(loadWithRscript(), "Rscript " + DataFiles.toolVersion("Rscript", "--version"));
        }
    }

    /** The novels' lines decoded from the lazy-load database without R. */
    Map<String, List<String>> loadPure() throws IOException {
        Map<String, Object> vars = RData.readLazyLoadDb(packageDir.resolve("data/Rdata"));
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Book b : BOOKS) {
            if (!(vars.get(b.object()) instanceof RData.RVector v) || !(v.data() instanceof String[] s)) {
                throw new IOException("janeaustenr data has no character vector '" + b.object() + "'");
            }
            out.put(b.object(), Arrays.asList(s));
        }
        return out;
    }

    /** The novels' lines as R itself reads them: Rscript writes each to a UTF-8 file. */
    Map<String, List<String>> loadWithRscript() throws IOException {
        Path tmp = Files.createTempDirectory("d2v-austen");
        try {
            // Rscript passes the arguments after the expression to commandArgs(TRUE) itself
            List<String> cmd = new ArrayList<>(List.of("Rscript", "-e",
                    "a <- commandArgs(TRUE); library(janeaustenr, lib.loc = a[1]); "
                            + "for (n in a[-(1:2)]) writeLines(enc2utf8(get(n)), file.path(a[2], paste0(n, '.txt')), "
                            + "useBytes = TRUE)",
                    packageDir.getParent().toString(), tmp.toString()));
            BOOKS.forEach(b -> cmd.add(b.object()));
            DataFiles.ProcessResult r = DataFiles.run(cmd, tmp, 120);
            if (r == null) {
                throw new IOException("Rscript not found (the fallback reader for janeaustenr): "
                        + "apt-get install r-base-core");
            }
            if (r.exitCode() != 0) {
                throw new IOException("Rscript failed to export janeaustenr (exit " + r.exitCode() + "): "
                        + r.output().strip());
            }
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (Book b : BOOKS) {
                out.put(b.object(), Files.readAllLines(tmp.resolve(b.object() + ".txt"), StandardCharsets.UTF_8));
            }
            return out;
        } finally {
            try (var s = Files.list(tmp)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(tmp);
        }
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        Texts texts = load(ctx.progress());
        List<Map<String, String>> train = new ArrayList<>();
        List<Map<String, String>> test = new ArrayList<>();
        List<Map<String, String>> unlabeled = new ArrayList<>();
        for (Book b : BOOKS) {
            for (Paragraph p : paragraphs(b, texts.lines().get(b.object()))) {
                unlabeled.add(DataFiles.row("text", p.text(), "id", p.id()));
                if (p.words() >= MIN_PROBE_WORDS) {
                    (p.isTest() ? test : train).add(DataFiles.row("text", p.text(), "label", b.label(), "id", p.id()));
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
                BOOKS.size(), "paragraphs of >= " + MIN_PROBE_WORDS + " words; test when the chapter ordinal "
                + "within its book % 5 == 0, else train; front matter before chapter 1 dropped"
                + (ctx.limit() > 0 ? "; first " + ctx.limit() + " per split in book then file order" : ""),
                ctx.seed(), "debian " + PACKAGE + " " + DataFiles.debianVersion(PACKAGE),
                Map.of("decoder", texts.decoder()), DataFiles.now());
        m.write(root);
        ctx.progress().accept("austen: " + counts);
        return m;
    }
}
