package dev.d2v.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Turns folders and JSONL files into {@link RawItem}s, in a stable order (sorted paths, file line order).
 *
 * <p>Folders are walked recursively. The conventional labeled layout {@code <root>/{train,test}/<label>/<file>}
 * gives split and label; {@code <root>/unlabeled/...} and any other place give neither. png/jpg/jpeg are
 * images, wav is audio, txt is text (one record per file); a .jsonl file inside a folder is read line by line.
 * Sample ids are {@code <name>/<path relative to root without extension>}, so re-ingesting the same folder
 * yields the same keys.
 */
public final class Sources {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Sources() {
    }

    /** Modality of a file by its extension, or empty for files ingest does not take. */
    public static Optional<Modality> modalityOf(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg")) {
            return Optional.of(Modality.IMAGE);
        }
        if (n.endsWith(".wav")) {
            return Optional.of(Modality.AUDIO);
        }
        if (n.endsWith(".txt") || n.endsWith(".jsonl")) {
            return Optional.of(Modality.TEXT);
        }
        return Optional.empty();
    }

    static String contentType(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".png")) {
            return "image/png";
        }
        if (n.endsWith(".jpg") || n.endsWith(".jpeg")) {
            return "image/jpeg";
        }
        if (n.endsWith(".wav")) {
            return "audio/wav";
        }
        return Modality.TEXT.defaultContentType();
    }

    /** Every ingestible item under a folder (or the single file given), in sorted path order. */
    public static Stream<RawItem> folder(Path root, String name) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("no such file or folder: " + root.toAbsolutePath());
        }
        if (!Files.isDirectory(root)) {
            return file(root.getParent() == null ? Path.of(".") : root.getParent(), root, name);
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            // a dangling link is not a directory: it stays in, and fails (is reported) when read
            walk.filter(p -> !Files.isDirectory(p)).filter(p -> modalityOf(p).isPresent()).forEach(files::add);
        }
        files.sort(walkOrder(root));
        return files.stream().flatMap(p -> {
            try {
                return file(root, p, name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * Train before unlabeled before test, then by file name, then by path: in a labeled layout whose file
     * names are sample indexes this interleaves the labels in dataset order, so `--limit N` takes a
     * representative prefix instead of the first label folder.
     */
    static Comparator<Path> walkOrder(Path root) {
        return Comparator.<Path>comparingInt(p -> splitRank(root.relativize(p)))
                .thenComparing(p -> p.getFileName().toString())
                .thenComparing(p -> root.relativize(p).toString());
    }

    private static int splitRank(Path rel) {
        return switch (rel.getNameCount() > 1 ? rel.getName(0).toString() : "") {
            case "train" -> 0;
            case "unlabeled" -> 1;
            case "test" -> 2;
            default -> 3;
        };
    }

    private static Stream<RawItem> file(Path root, Path file, String name) throws IOException {
        String rel = root.relativize(file).toString().replace('\\', '/');
        if (rel.toLowerCase(Locale.ROOT).endsWith(".jsonl")) {
            return jsonl(file, name + "/" + stripExtension(rel), splitFromFileName(file));
        }
        Modality m = modalityOf(file).orElseThrow();
        String[] parts = rel.split("/");
        Optional<String> split = Optional.empty();
        Optional<String> label = Optional.empty();
        if (parts.length >= 3 && (parts[0].equals("train") || parts[0].equals("test"))) {
            split = Optional.of(parts[0]);
            label = Optional.of(parts[1]);
        }
        String id = name + "/" + stripExtension(rel);
        return Stream.of(new RawItem(id, m, contentType(file), label, split, "file:" + file.toAbsolutePath(),
                () -> Files.readAllBytes(file)));
    }

    /**
     * Text records of a JSONL file: "text" is required; "label", "split" and "id" are optional. The split
     * defaults to the file's name (train.jsonl, test.jsonl). A line that is not valid JSON or has no text is
     * an unreadable item: it is reported by ingest and skipped.
     */
    public static Stream<RawItem> jsonl(Path file, String idPrefix, Optional<String> defaultSplit) throws IOException {
        List<RawItem> items = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                items.add(jsonLine(file, idPrefix, defaultSplit, line, n));
            }
        }
        return items.stream();
    }

    private static RawItem jsonLine(Path file, String idPrefix, Optional<String> defaultSplit, String line, int n) {
        String source = "file:" + file.toAbsolutePath() + ":" + n;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            String msg = "line " + n + " is not valid JSON: " + e.getOriginalMessage();
            return new RawItem(idPrefix + "/" + n, Modality.TEXT, Modality.TEXT.defaultContentType(), Optional.empty(),
                    defaultSplit, source, () -> {
                        throw new IOException(msg);
                    });
        }
        JsonNode text = node.get("text");
        Optional<String> label = optionalText(node, "label");
        Optional<String> split = optionalText(node, "split").or(() -> defaultSplit);
        String id = optionalText(node, "id").orElse(idPrefix + "/" + n);
        if (text == null || !text.isTextual()) {
            return new RawItem(id, Modality.TEXT, Modality.TEXT.defaultContentType(), label, split, source, () -> {
                throw new IOException("line " + n + " has no \"text\" string");
            });
        }
        byte[] bytes = text.asText().getBytes(StandardCharsets.UTF_8);
        return new RawItem(id, Modality.TEXT, Modality.TEXT.defaultContentType(), label, split, source, () -> bytes);
    }

    private static Optional<String> optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }

    static Optional<String> splitFromFileName(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.equals("train.jsonl")) {
            return Optional.of("train");
        }
        if (n.equals("test.jsonl")) {
            return Optional.of("test");
        }
        return Optional.empty();
    }

    static String stripExtension(String rel) {
        int slash = rel.lastIndexOf('/');
        int dot = rel.lastIndexOf('.');
        return dot > slash ? rel.substring(0, dot) : rel;
    }
}
