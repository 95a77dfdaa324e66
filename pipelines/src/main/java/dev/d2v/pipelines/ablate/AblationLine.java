package dev.d2v.pipelines.ablate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.wire.EvalResult;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One line of {@code ablation.jsonl}: one evaluation figure of one checkpoint of one run, with the variant and seed
 * that made it. The fields: {@code variant} (its name), {@code overrides} (its assignments as an object, "preset"
 * included when varied), {@code seed}, {@code run} (the run folder's name), {@code pretrain_minutes} (time spent in
 * training steps up to the checkpoint), then the {@link EvalResult}'s own ({@code checkpoint}, {@code step},
 * {@code modality}, {@code task}, {@code protocol}, {@code accuracy}, {@code baseline_accuracy} (random init),
 * {@code raw_accuracy} (raw input features), {@code extras}).
 */
public record AblationLine(String variant, Map<String, String> overrides, long seed, String run,
                           double pretrainMinutes, EvalResult result) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public AblationLine {
        Objects.requireNonNull(variant, "variant");
        Objects.requireNonNull(run, "run");
        Objects.requireNonNull(result, "result");
        overrides = Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
    }

    /** What identifies a line: run, step, task, protocol (a second line of the same key is not appended). */
    public String key() {
        return run + "/" + result.step() + "/" + result.task() + "/" + result.protocol().id();
    }

    public String toJsonLine() {
        ObjectNode n = JSON.createObjectNode();
        n.put("variant", variant);
        ObjectNode o = n.putObject("overrides");
        overrides.forEach(o::put);
        n.put("seed", seed);
        n.put("run", run);
        n.put("pretrain_minutes", pretrainMinutes);
        n.setAll(result.toJson());
        return n.toString();
    }

    /** Reads {@link #toJsonLine()} output; a missing or mistyped field names itself. */
    public static AblationLine fromJson(JsonNode n) {
        JsonNode o = n.get("overrides");
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("ablation line field 'overrides' must be an object, got " + o);
        }
        Map<String, String> overrides = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            overrides.put(f.getKey(), f.getValue().asText());
        }
        return new AblationLine(text(n, "variant"), overrides, number(n, "seed").asLong(), text(n, "run"),
                number(n, "pretrain_minutes").asDouble(), EvalResult.fromJson(n));
    }

    /**
     * Every line of the file, in order; none when it does not exist. A line that does not parse (a write cut off)
     * is left out and described in {@code problems}.
     */
    public static List<AblationLine> readAll(Path file, List<String> problems) throws IOException {
        List<AblationLine> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        int number = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(fromJson(JSON.readTree(line)));
            } catch (JsonProcessingException | IllegalArgumentException e) {
                problems.add(file.getFileName() + " line " + number + " skipped: " + e.getMessage());
            }
        }
        return out;
    }

    /** Appends the lines, each whole with its newline, and flushes. */
    public static void append(Path file, List<AblationLine> lines) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        StringBuilder b = new StringBuilder();
        lines.forEach(l -> b.append(l.toJsonLine()).append('\n'));
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            w.write(b.toString());
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("ablation line field '" + field + "' must be a string, got " + v);
        }
        return v.asText();
    }

    private static JsonNode number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("ablation line field '" + field + "' must be a number, got " + v);
        }
        return v;
    }
}
