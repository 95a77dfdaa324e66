package dev.d2v.evaluate.results;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.infra.wire.EvalResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The results JSON of one checkpoint, {@code <dir>/<checkpoint>.json}, version 1:
 * <pre>
 * {"version": 1, "kind": "eval-results", "checkpoint": "step-000001200", "step": 1200,
 *  "results": [{"checkpoint": ..., "step": ..., "modality": "image", "task": "fashion-mnist", "protocol": "linear",
 *               "accuracy": 0.861, "baseline_accuracy": 0.712, "extras": {"l2": 0.01, ...}}, ...]}
 * </pre>
 * Results arrive protocol by protocol; {@link #merge} replaces the entry of the same (modality, task, protocol) and
 * rewrites the file atomically.
 */
public final class ResultsFile {
    public static final int VERSION = 1;
    static final String KIND = "eval-results";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ResultsFile() {
    }

    public static Path path(Path dir, String checkpoint) {
        return dir.resolve(AtomicFiles.safeName(checkpoint) + ".json");
    }

    /** Writes {@code results} (all of one checkpoint) as the checkpoint's file, replacing it atomically. */
    public static Path write(Path dir, List<EvalResult> results) throws IOException {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no results to write");
        }
        EvalResult first = results.get(0);
        for (EvalResult r : results) {
            if (!r.checkpoint().equals(first.checkpoint()) || r.step() != first.step()) {
                throw new IllegalArgumentException("a results file holds one checkpoint: got " + first.checkpoint()
                        + " (step " + first.step() + ") and " + r.checkpoint() + " (step " + r.step() + ")");
            }
        }
        ObjectNode n = MAPPER.createObjectNode();
        n.put("version", VERSION);
        n.put("kind", KIND);
        n.put("checkpoint", first.checkpoint());
        n.put("step", first.step());
        ArrayNode list = n.putArray("results");
        results.forEach(r -> list.add(r.toJson()));
        Path file = path(dir, first.checkpoint());
        try {
            AtomicFiles.write(file, MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
        return file;
    }

    /** Adds {@code results} to their checkpoint's file, replacing earlier entries of the same series. */
    public static Path merge(Path dir, List<EvalResult> results) throws IOException {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no results to merge");
        }
        Path file = path(dir, results.get(0).checkpoint());
        Map<String, EvalResult> bySeries = new LinkedHashMap<>();
        if (Files.exists(file)) {
            read(file).forEach(r -> bySeries.put(r.seriesKey(), r));
        }
        results.forEach(r -> bySeries.put(r.seriesKey(), r));
        return write(dir, new ArrayList<>(bySeries.values()));
    }

    /** Reads one results file; an unknown version or a malformed file fails naming the file. */
    public static List<EvalResult> read(Path file) throws IOException {
        JsonNode n;
        try {
            n = MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("malformed results file " + file + ": " + e.getOriginalMessage(), e);
        }
        if (n == null || !n.isObject() || !KIND.equals(n.path("kind").asText())) {
            throw new IOException("not a results file (kind '" + KIND + "' expected): " + file);
        }
        int version = n.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IOException("unknown results file version " + version + " (this build reads " + VERSION + "): " + file);
        }
        List<EvalResult> out = new ArrayList<>();
        try {
            for (JsonNode r : n.path("results")) {
                out.add(EvalResult.fromJson(r));
            }
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid results file " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Every result of every results file in {@code dir}, by step; an unreadable file is skipped and reported. */
    public static List<EvalResult> readAll(Path dir, List<String> problems) throws IOException {
        List<EvalResult> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
        for (Path f : files) {
            try {
                out.addAll(read(f));
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        out.sort(Comparator.comparingLong(EvalResult::step).thenComparing(EvalResult::seriesKey));
        return out;
    }
}
