package dev.d2v.evaluate.follow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.infra.wire.CheckpointEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the follower has done with each checkpoint, kept in a JSON file (version 1) that is rewritten atomically
 * after every change, so that a restarted evaluator neither repeats finished work nor loses a started one:
 * <pre>
 * {"version": 1, "kind": "follower-state", "checkpoints": {
 *    "step-000001200": {"status": "done", "step": 1200, "at": "2026-...Z", "results": 6,
 *                       "event": { ...the CheckpointEvent JSON... }},
 *    "step-000002400": {"status": "rejected", "step": 2400, "at": "...", "reason": "manifest checksum mismatch", "event": {...}},
 *    "step-000003600": {"status": "started", ...}}}
 * </pre>
 * A state file that cannot be read is moved aside ({@code .corrupt-<epoch ms>}) and the follower starts afresh
 * (features are cached, so re-evaluating is cheap).
 */
public final class FollowerState {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerState.class);
    public static final int VERSION = 1;
    static final String KIND = "follower-state";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Where a checkpoint stands; all but {@link #STARTED} are final. */
    public enum Status {
        /** evaluation began and did not finish (the process stopped): resumed on the next start */
        STARTED,
        /** evaluated, results published */
        DONE,
        /** the evaluator refused it; {@link Entry#reason()} says why */
        REJECTED,
        /** skipped because a newer checkpoint was waiting (policy NEWEST) */
        SUPERSEDED;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Status parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }

        public boolean isFinal() {
            return this != STARTED;
        }
    }

    /**
     * @param event   the checkpoint event (kept so that a started evaluation resumes without its event)
     * @param status  where it stands
     * @param at      when the status was set
     * @param reason  why it was rejected or superseded; empty otherwise
     * @param results number of results (DONE only)
     */
    public record Entry(CheckpointEvent event, Status status, Instant at, String reason, int results) {
    }

    private final Path file;
    private final Map<String, Entry> entries;

    private FollowerState(Path file, Map<String, Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    /** Loads {@code file}; missing means a fresh start, unreadable is moved aside (logged) and also a fresh start. */
    public static FollowerState load(Path file) throws IOException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new FollowerState(file, entries);
        }
        try {
            parse(bytes, entries);
        } catch (IOException | RuntimeException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
            Files.move(file, aside);
            LOG.warn("follower state {} is unreadable ({}); moved to {} and starting afresh", file, e.getMessage(), aside);
            entries.clear();
        }
        return new FollowerState(file, entries);
    }

    private static void parse(byte[] bytes, Map<String, Entry> into) throws IOException {
        JsonNode n = MAPPER.readTree(bytes);
        if (n == null || !KIND.equals(n.path("kind").asText())) {
            throw new IOException("not a follower state file (kind '" + KIND + "' expected)");
        }
        int version = n.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IOException("unknown follower state version " + version + " (this build reads " + VERSION + ")");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("checkpoints").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            CheckpointEvent event = CheckpointEvent.fromJson(MAPPER.writeValueAsBytes(v.get("event")));
            into.put(e.getKey(), new Entry(event, Status.parse(v.path("status").asText()), Instant.parse(v.path("at").asText()),
                    v.path("reason").asText(""), v.path("results").asInt(0)));
        }
    }

    public Path file() {
        return file;
    }

    public Optional<Entry> get(String checkpointId) {
        return Optional.ofNullable(entries.get(checkpointId));
    }

    /** Every entry, in the order first seen. */
    public Map<String, Entry> entries() {
        return Collections.unmodifiableMap(entries);
    }

    /** Entries left {@link Status#STARTED} by an interrupted run, in step order. */
    public List<Entry> interrupted() {
        return entries.values().stream().filter(e -> e.status() == Status.STARTED)
                .sorted((a, b) -> Long.compare(a.event().step(), b.event().step())).toList();
    }

    /** The largest step evaluated to the end, if any. */
    public OptionalLong newestDoneStep() {
        return entries.values().stream().filter(e -> e.status() == Status.DONE).mapToLong(e -> e.event().step()).max();
    }

    /** Sets the status of the checkpoint and saves the file atomically. */
    public void record(CheckpointEvent event, Status status, Instant at, String reason, int results) throws IOException {
        entries.put(event.checkpointId(), new Entry(event, status, at, reason == null ? "" : reason, results));
        save();
    }

    private void save() throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("version", VERSION);
        root.put("kind", KIND);
        ObjectNode cps = root.putObject("checkpoints");
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Entry v = e.getValue();
            ObjectNode o = cps.putObject(e.getKey());
            o.put("status", v.status().id());
            o.put("step", v.event().step());
            o.put("at", v.at().toString());
            if (!v.reason().isEmpty()) {
                o.put("reason", v.reason());
            }
            if (v.status() == Status.DONE) {
                o.put("results", v.results());
            }
            o.set("event", MAPPER.readTree(v.event().toJson()));
        }
        try {
            AtomicFiles.write(file, MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }
}
