package dev.d2v.train.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.EncoderExport;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A {@link Trainer}'s state to and from the checkpoint store. The manifest's config node holds the model config under
 * "model" (what the evaluator rebuilds the encoder from) and the caller's run settings under "run" (preprocessing,
 * data source, vocabulary), so that a checkpoint describes itself.
 */
public final class TrainerCheckpoints {

    /** Key of the model configuration inside the manifest's config node. */
    public static final String MODEL = "model";
    /** Key of the run settings (data, transforms) inside the manifest's config node. */
    public static final String RUN = "run";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainerCheckpoints() {}

    /** Writes the trainer's state as step folder under root (atomically; see CheckpointStore). */
    public static CheckpointStore.Verified save(Trainer t, Path root, JsonNode run, CheckpointManifest.DataPosition position)
            throws IOException {
        Trainer.Counters c = t.counters();
        ObjectNode config = JSON.createObjectNode();
        config.set(MODEL, JSON.readTree(t.config().toJson()));
        config.set(RUN, run == null ? JSON.createObjectNode() : run);
        Map<String, Long> samples = new LinkedHashMap<>();
        c.samplesSeen().forEach((m, n) -> samples.put(m.id(), n));
        Map<String, Double> schedule = new LinkedHashMap<>();
        schedule.put("lr", Schedules.learningRate(t.config().optim(), c.step()));
        schedule.put("tau", Schedules.tau(t.config().ema(), t.config().optim().warmupSteps(), c.step()));
        schedule.put("skipped_steps", (double) c.skipped());
        // masks and the engine generator are functions of (seed, step): the seed is the whole RNG state
        Map<String, List<Long>> rng = Map.of("seed", List.of(t.seed()));
        CheckpointManifest m = CheckpointManifest.of(c.step(), samples, config, schedule, rng, position,
                c.optimizerCounts());
        return CheckpointStore.write(root, m, t.tensors());
    }

    /**
     * A resumed run keeps the LR and tau schedules it started with (those of the newest valid checkpoint under root),
     * unless the caller sets the schedule length itself ({@code scheduleGiven}).
     */
    public static Data2VecConfig keepSchedule(Data2VecConfig model, Path root, boolean scheduleGiven) throws IOException {
        if (scheduleGiven) {
            return model;
        }
        Optional<CheckpointStore.Verified> newest = CheckpointStore.newestValid(root).checkpoint();
        if (newest.isEmpty()) {
            return model;
        }
        Data2VecConfig saved = modelConfig(newest.get().manifest());
        return model.withOptim(saved.optim()).withEma(saved.ema());
    }

    /** The d2v.checkpoints event of a written checkpoint (id = {@link CheckpointStore.Verified#id}, location = absolute folder). */
    public static CheckpointEvent event(CheckpointStore.Verified v) {
        CheckpointManifest m = v.manifest();
        return new CheckpointEvent(v.id(), m.step(), m.samplesSeen(),
                m.dataPosition().offsets(), v.folder().toAbsolutePath().toString(),
                Long.parseUnsignedLong(m.configHash(), 16), Instant.parse(m.createdAt()));
    }

    /** The model configuration a checkpoint was trained with. */
    public static Data2VecConfig modelConfig(CheckpointManifest m) throws CheckpointException {
        JsonNode model = m.config().get(MODEL);
        if (model == null) {
            throw new CheckpointException(null, "checkpoint config has no '" + MODEL + "' section");
        }
        return Data2VecConfig.fromJson(model.toString());
    }

    /** Loads a verified checkpoint into t (same config and seed required) and returns its data position. */
    public static CheckpointManifest.DataPosition restore(Trainer t, CheckpointStore.Loaded loaded) throws CheckpointException {
        CheckpointManifest m = loaded.manifest();
        Data2VecConfig saved = modelConfig(m);
        if (!saved.equals(t.config())) {
            throw new CheckpointException(loaded.folder(), "was trained with another configuration than this run's: "
                    + "use the same preset and options, or another --out folder");
        }
        List<Long> seed = m.rng().get("seed");
        if (seed == null || seed.size() != 1 || seed.get(0) != t.seed()) {
            throw new CheckpointException(loaded.folder(), "has seed " + seed + ", this run " + t.seed());
        }
        Map<Modality, Long> samples = new EnumMap<>(Modality.class);
        m.samplesSeen().forEach((id, n) -> samples.put(Modality.parse(id), n));
        long skipped = Math.round(m.schedule().getOrDefault("skipped_steps", 0.0));
        t.restore(loaded.groups(), new Trainer.Counters(m.step(), skipped, samples, m.optimizerSteps()));
        return m.dataPosition();
    }

    /** The newest checkpoint under root that verifies, loaded into t; rejected ones are reported to log. */
    public static Optional<CheckpointManifest.DataPosition> resumeNewest(Trainer t, Path root, NDManager manager,
                                                                                  Consumer<String> log)
            throws IOException {
        CheckpointStore.Newest newest = CheckpointStore.newestValid(root);
        for (CheckpointStore.Rejected r : newest.rejected()) {
            log.accept("checkpoint " + r.folder() + " is not usable: " + r.reason());
        }
        if (newest.checkpoint().isEmpty()) {
            return Optional.empty();
        }
        try (NDManager scope = manager.newSubManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(newest.checkpoint().get().folder(), scope);
            CheckpointManifest.DataPosition p = restore(t, loaded);
            log.accept("resumed from " + loaded.folder() + " at step " + loaded.manifest().step());
            return Optional.of(p);
        }
    }

    /**
     * The student's encoder (local encoders, prenets, trunk; no decoders) as encoder.safetensors with the tensor
     * names of Data2VecModel (documented in TRAIN.md).
     */
    public static Path exportEncoder(Trainer t, Path folder, String checkpointId) throws IOException {
        Map<String, NDArray> encoder = new LinkedHashMap<>();
        t.student().view().forEach((name, array) -> {
            if (Data2VecModel.inTeacher(name)) {
                encoder.put(name, array);
            }
        });
        JsonNode config = JSON.readTree(t.config().toJson());
        return EncoderExport.write(folder, encoder, new EncoderExport.Info(t.config().modalities(), config, t.stepsDone(),
                checkpointId));
    }
}
