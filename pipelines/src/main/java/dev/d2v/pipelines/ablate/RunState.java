package dev.d2v.pipelines.ablate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code <run>/ablate-run.json}, version 1: what a run was started with and how far its pretraining got, so that a
 * second invocation resumes it, skips it when done, and refuses a folder that another sweep's settings made.
 * <pre>
 * {"version": 1, "kind": "ablate-run", "settings": {"modality": "image", "data": "mnist", "preset": "cpu",
 *  "overrides": ["image.targets.average_top_k_layers=2"], "seed": 1, "steps": 150, ...},
 *  "chunks_done": 0, "pretrained": true}
 * </pre>
 *
 * @param settings   what decides the run's training (compared as a whole on resume)
 * @param chunksDone parts of a time budget trained (each ends with a checkpoint); 0 without a time budget
 * @param pretrained the run reached its step target or spent its time budget: only evaluations may be left
 */
public record RunState(JsonNode settings, int chunksDone, boolean pretrained) {

    public static final String FILE = "ablate-run.json";
    static final int VERSION = 1;
    static final String KIND = "ablate-run";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A new run's state: nothing trained. */
    public static RunState start(AblationSettings s, AblationPlan.Run r) {
        return new RunState(settings(s, r), 0, false);
    }

    /**
     * The settings that decide what a run trains, and the probes' readout: its lines and recorded results are of one
     * readout, so a call with another is refused instead of mixing them or skipping its evaluations. The rest of the
     * evaluation's settings may change between calls (--finetune adds a protocol). A run of the last block's readout,
     * the only one before there was a choice, records none, so folders made then resume with --readout last.
     */
    static ObjectNode settings(AblationSettings s, AblationPlan.Run r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("modality", s.modality().id());
        o.put("data", s.data());
        if (s.limit() != null) {
            o.put("limit", s.limit());
        }
        o.put("batch_size", s.batchSize());
        o.put("preset", r.preset());
        r.overrides().forEach(o.putArray("overrides")::add);
        o.put("seed", r.seed());
        if (r.variant().initFrom() != null) {
            o.put("init_from", r.variant().initFrom().toAbsolutePath().normalize().toString());
        }
        if (s.steps() != null) {
            o.put("steps", s.steps());
        }
        if (s.timeBudget() != null) {
            o.put("minutes", s.timeBudget().toMillis() / 60_000.0);
        }
        if (s.scheduleSteps() != null) {
            o.put("schedule_steps", s.scheduleSteps());
        }
        o.put("checkpoints", s.checkpoints());
        if (s.evaluation().readout() != Readout.LAST) {
            o.put("readout", s.evaluation().readout().id());
        }
        // as read back from the file (an int-sized long reads as an int node), so that equals compares values
        try {
            return (ObjectNode) JSON.readTree(o.toString());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always parses", e);
        }
    }

    public RunState withChunksDone(int n) {
        return new RunState(settings, n, pretrained);
    }

    public RunState withPretrained() {
        return new RunState(settings, chunksDone, true);
    }

    /** The folder's state; empty when it has none (a new run). A malformed or unknown file fails naming it. */
    public static Optional<RunState> read(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("malformed run state " + file + ": " + e.getOriginalMessage(), e);
        }
        if (n == null || !KIND.equals(n.path("kind").asText())) {
            throw new IOException("not a run state (kind '" + KIND + "' expected): " + file);
        }
        if (n.path("version").asInt(-1) != VERSION) {
            throw new IOException("unknown run state version " + n.path("version") + " (this build reads " + VERSION + "): " + file);
        }
        if (!n.path("settings").isObject() || !n.path("chunks_done").isInt() || !n.path("pretrained").isBoolean()) {
            throw new IOException("invalid run state " + file + ": settings, chunks_done and pretrained are required");
        }
        return Optional.of(new RunState(n.get("settings"), n.get("chunks_done").asInt(), n.get("pretrained").asBoolean()));
    }

    /** Replaces the folder's state atomically. */
    public void write(Path folder) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", VERSION);
        n.put("kind", KIND);
        n.set("settings", settings);
        n.put("chunks_done", chunksDone);
        n.put("pretrained", pretrained);
        Files.createDirectories(folder);
        AtomicFiles.write(folder.resolve(FILE), JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(n));
    }
}
