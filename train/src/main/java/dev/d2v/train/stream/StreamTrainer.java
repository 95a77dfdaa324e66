package dev.d2v.train.stream;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.loop.Checkpointer;
import dev.d2v.train.loop.CollapseGuardStop;
import dev.d2v.train.loop.LoopListener;
import dev.d2v.train.loop.Rollback;
import dev.d2v.train.loop.TrainingLoop;
import dev.d2v.train.run.Devices;
import dev.d2v.train.run.ModelFit;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.run.Transfer;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The continuous trainer: the {@link TrainingLoop} over the batch topics ({@link KafkaBatchSource}, from the newest
 * checkpoint's offsets) with the stream's listeners: metrics file and Prometheus, the trained-sample log, progress,
 * the collapse guard, the rollback after non-finite losses, and checkpoints (every N steps, every T minutes and at
 * the end) announced on d2v.checkpoints; undecodable records go to d2v.deadletter. {@link #run} is the whole service
 * run (device, vocabulary, model fit, config hashes, export); {@link #train} the loop with its listeners alone.
 *
 * <p>Offsets: a checkpoint holds, per topic-partition, the offset after the last record TRAINED (or dead-lettered),
 * never one merely prefetched, so a restart from it trains every later batch exactly once and no earlier one again.
 * A run that dies between checkpoints (kill -9) retrains the batches after its last checkpoint, with the same
 * result: masks and noise are functions of (seed, step).
 */
public final class StreamTrainer {

    /**
     * Where the loop reports to, beside its own listeners.
     *
     * @param listeners    after every step (metrics, progress, the trained-sample log)
     * @param deadLetters  records that did not decode (to d2v.deadletter)
     * @param checkpointed after every checkpoint written (the d2v.checkpoints event)
     * @param log          one-line messages
     */
    public record Hooks(List<Consumer<TrainedStep>> listeners, Consumer<DeadLetter> deadLetters,
                        Consumer<CheckpointEvent> checkpointed, Consumer<String> log) {
        public Hooks {
            listeners = List.copyOf(listeners);
        }

        public static Hooks quiet() {
            return new Hooks(List.of(), d -> {}, e -> {}, s -> {});
        }

        public Hooks withListeners(List<Consumer<TrainedStep>> more) {
            List<Consumer<TrainedStep>> all = new ArrayList<>(listeners);
            all.addAll(more);
            return new Hooks(all, deadLetters, checkpointed, log);
        }
    }

    /** How the loop ended, and what it did. */
    public record Outcome(long stepsThisRun, String reason, CheckpointEvent lastCheckpoint, long deadLetters,
                          long rollbacks, long checkpoints, double dataWaitFraction, double samplesPerSecond) {}

    /**
     * A whole run.
     *
     * @param step    the trainer's step count at the end
     * @param encoder encoder.safetensors exported from the last checkpoint; null when this run wrote none
     */
    public record Result(Outcome outcome, long step, Path encoder) {}

    private final PrintStream out;

    /** @param out the start and end lines, resume, checkpoint and dead-letter messages */
    public StreamTrainer(PrintStream out) {
        this.out = out;
    }

    /**
     * Trains until the settings' target step, time budget or idle time, or until {@code stop} turns true; then
     * checkpoints and exports the encoder.
     *
     * @param stop polled before each step (the shutdown hook's flag)
     * @throws IllegalArgumentException for settings that cannot train (no vocabulary for text, a bad device or
     *                                  config; the message says why)
     */
    public Result run(StreamTrainSettings s, BooleanSupplier stop) throws IOException, InterruptedException {
        PipelineConfig c = s.config();
        List<Modality> modalities = s.modalities();
        Device dev = Devices.open(s.device(), s.threads());
        Path run = s.out().toAbsolutePath();
        Files.createDirectories(run);
        Path checkpoints = run.resolve("checkpoints");
        Topics topics = c.topics().names();
        Transforms transforms = Transforms.of(c);   // the preprocess job's, from the same configuration
        Vocabulary vocabulary = null;
        if (modalities.contains(Modality.TEXT)) {
            Path file = s.vocabularyFile();
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("text training needs the vocabulary the preprocess job used: " + file
                        + " does not exist (run ./d2v preprocess first, or pass --vocab FILE)");
            }
            vocabulary = Vocabulary.load(file);
        }
        Long target = s.targetStep();
        long scheduleLength = s.scheduleSteps() != null ? s.scheduleSteps()
                : target != null ? target : s.preset().optim().totalSteps();
        Map<Modality, Integer> batchSizes = new EnumMap<>(Modality.class);
        modalities.forEach(m -> batchSizes.put(m, c.batch().of(m)));
        Data2VecConfig model = TrainerCheckpoints.keepSchedule(s.lrScaling().apply(
                ModelFit.fit(s.preset(), modalities, transforms, vocabulary).forSteps(scheduleLength), batchSizes,
                s.lrReferenceBatch()), checkpoints, s.scheduleSteps() != null);
        Map<Modality, Long> configHashes = new EnumMap<>(Modality.class);
        for (Modality m : modalities) {   // what the preprocess job stamps on batches made with these settings
            configHashes.put(m, transforms.configHash(m, m == Modality.TEXT ? vocabulary : null));
        }
        ObjectNode runInfo = runInfo(s, transforms, vocabulary);
        printStart(s, model, batchSizes, dev);

        Consumer<String> log = msg -> out.println("\n" + msg);
        try (Trainer trainer = new Trainer(model, dev, s.seed());
             KafkaSinks sinks = new KafkaSinks(c.kafka().clientProps(), topics, log);
             StreamMetrics metrics = new StreamMetrics(run.resolve("metrics.jsonl"), s.metricsHost(), s.metricsPort());
             SampleLog samples = s.sampleLog() ? new SampleLog(run.resolve("trained-samples.jsonl")) : null) {
            Map<String, Long> offsets = resume(trainer, checkpoints, out::println);
            if (s.initFrom() != null) {
                if (trainer.stepsDone() == 0) {
                    try (NDManager scratch = NDManager.newBaseManager(dev)) {
                        Transfer.Copied t = Transfer.initFrom(trainer, s.initFrom(), scratch);
                        out.printf("trunk from %s (step %d, %s trunk): %d blocks; local encoders and decoders new%n",
                                t.source(), t.sourceStep(), t.sourceTrunk(), t.blocks());
                    }
                } else {
                    out.println("--init-from: not used, the run resumed from its own checkpoint");
                }
            }
            if (metrics.port() > 0) {
                out.println("metrics: http://" + s.metricsHost() + ":" + metrics.port() + "/metrics");
            }
            Outcome o;
            try (KafkaBatchSource source = KafkaBatchSource.open(c.kafka().clientProps(), topics, modalities, offsets,
                    s.loop().queueCapacity(), MinibatchCodec.inline(), configHashes, log);
                 Progress progress = new Progress("train", target != null ? target : 0)) {
                progress.set(trainer.stepsDone(), "");
                List<Consumer<TrainedStep>> listeners = new ArrayList<>();
                listeners.add(metrics);
                if (samples != null) {
                    listeners.add(samples);
                }
                listeners.add(progressLine(progress));
                Hooks hooks = new Hooks(listeners, d -> {
                    sinks.deadLetter(d);
                    metrics.deadLetter();
                }, e -> {
                    sinks.checkpoint(e);
                    metrics.checkpoint();
                }, log);
                o = train(trainer, source, offsets, s.loop(), checkpoints, runInfo, hooks, stop);
            } finally {
                sinks.flush();
            }
            out.printf("%s after %d steps (step %d): %d dead letters, %d rollbacks, %d checkpoints, "
                            + "data wait %.1f%%, %.1f samples/s%n", o.reason(), o.stepsThisRun(), trainer.stepsDone(),
                    o.deadLetters(), o.rollbacks(), o.checkpoints(), 100 * o.dataWaitFraction(), o.samplesPerSecond());
            Path encoder = null;
            if (o.lastCheckpoint() != null) {
                encoder = TrainerCheckpoints.exportEncoder(trainer, run.resolve("encoder"), o.lastCheckpoint().checkpointId());
                out.println("encoder: " + encoder);
            }
            return new Result(o, trainer.stepsDone(), encoder);
        }
    }

    /**
     * The loop with the continuous trainer's listeners: the hooks' listeners, the collapse guard, the rollback after
     * {@link StreamSettings#rollbackAfter()} non-finite losses in a row, checkpoints (announced to
     * {@code hooks.checkpointed}). An exception out of a listener or the trainer ends the run without the end-of-run
     * checkpoint, as a crash would.
     *
     * @param offsets where the source started: the checkpoint's offsets (from {@link #resume})
     * @param runInfo the run settings stored in each checkpoint's config (topics, transforms)
     */
    public static Outcome train(Trainer t, BatchSource source, Map<String, Long> offsets, StreamSettings s,
                                Path checkpoints, JsonNode runInfo, Hooks hooks, BooleanSupplier stop)
            throws IOException, InterruptedException {
        Checkpointer checkpointer = new Checkpointer(checkpoints, runInfo, s.checkpointEvery(), s.checkpointInterval(),
                s.retention(), v -> hooks.checkpointed().accept(TrainerCheckpoints.event(v)));
        Rollback rollback = new Rollback(s.rollbackAfter(), checkpointer);
        List<LoopListener> listeners = new ArrayList<>();
        hooks.listeners().forEach(l -> listeners.add(LoopListener.of(l)));
        listeners.add(LoopListener.ofDeadLetters(hooks.deadLetters()));
        listeners.addAll(List.of(new CollapseGuardStop(), rollback, checkpointer));
        TrainingLoop.Outcome o = new TrainingLoop(t, source, offsets, s.loop(), listeners, hooks.log()).run(stop);
        return new Outcome(o.stepsThisRun(), o.reason(),
                checkpointer.last() == null ? null : TrainerCheckpoints.event(checkpointer.last()), o.deadLetters(),
                rollback.count(), checkpointer.count(), o.dataWaitFraction(), o.samplesPerSecond());
    }

    /**
     * Resumes t from the newest valid checkpoint under root (a corrupt newer one is reported to log and moved aside)
     * and returns its consumed offsets, "topic:partition" -> next offset; empty offsets for a fresh start.
     */
    public static Map<String, Long> resume(Trainer t, Path root, Consumer<String> log) throws IOException {
        for (CheckpointStore.Rejected r : CheckpointStore.newestValid(root).rejected()) {
            Path aside = moveAside(r.folder());
            log.accept("checkpoint " + r.folder().getFileName() + " is not usable (" + r.reason() + "); moved to "
                    + aside.getFileName() + ", resuming from the previous one");
        }
        try (NDManager scratch = NDManager.newBaseManager(t.device())) {
            return TrainerCheckpoints.resumeNewest(t, root, scratch, log)
                    .map(CheckpointManifest.DataPosition::offsets).orElse(Map.of());
        }
    }

    /**
     * Renames a corrupt step folder to rejected-step-N-&lt;epoch ms&gt; (kept for inspection, out of the store's listing),
     * so that the resumed run can write that step again.
     */
    static Path moveAside(Path folder) throws IOException {
        Path aside = folder.resolveSibling("rejected-" + folder.getFileName() + "-" + System.currentTimeMillis());
        return Files.move(folder, aside);
    }

    private void printStart(StreamTrainSettings s, Data2VecConfig model, Map<Modality, Integer> batchSizes, Device dev) {
        StringBuilder turns = new StringBuilder();
        s.loop().weights().forEach((m, n) -> turns.append(turns.length() == 0 ? "" : ", ").append(m.id()).append(" x").append(n));
        StringBuilder scales = new StringBuilder();
        for (Modality m : s.modalities()) {
            scales.append(scales.length() == 0 ? "" : ", ").append(String.format("%s %d (lr x %.3g)", m.id(),
                    batchSizes.get(m), model.modality(m).lrFactor(model.optim())));
        }
        out.printf("train %s from %s.batch.*, preset %s, %s, bootstrap %s%nbatches: %s%n", turns,
                s.config().topics().names().prefix(), s.presetName(), dev, s.config().kafka().bootstrap(), scales);
    }

    /** Smoothed loss per modality, lr, tau, samples/s, data wait, lag and freshness on the progress line. */
    private static Consumer<TrainedStep> progressLine(Progress progress) {
        Map<Modality, Double> loss = new EnumMap<>(Modality.class);
        return s -> {
            loss.merge(s.result().modality(), s.result().loss(), (a, b) -> Double.isFinite(a) ? 0.9 * a + 0.1 * b : b);
            StringBuilder b = new StringBuilder();
            loss.forEach((m, l) -> b.append(String.format("%s %.4f ", m.id(), l)));
            b.append(String.format("lr %.2e tau %.5f %.1f samples/s wait %.0f%% lag %d fresh %.1fs", s.result().lr(),
                    s.result().tau(), s.samplesPerSecond(), 100 * s.dataWaitFraction(), s.lag(), s.freshnessMs() / 1000.0));
            progress.set(s.result().step() + 1, b.toString());
        };
    }

    /** The run settings each checkpoint stores beside the model config. */
    private static ObjectNode runInfo(StreamTrainSettings s, Transforms t, Vocabulary vocab) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("mode", "train");
        o.put("topics_prefix", s.config().topics().prefix());
        s.modalities().forEach(m -> o.withArray("modalities").add(m.id()));
        ObjectNode weights = o.putObject("weights");
        s.loop().weights().forEach((m, n) -> weights.put(m.id(), n));
        o.set("transforms", json.valueToTree(t));
        if (s.initFrom() != null) {
            o.put("init_from", s.initFrom().toAbsolutePath().normalize().toString());
        }
        if (vocab != null) {
            o.put("vocabulary_hash", Long.toHexString(vocab.contentHash()));
            // the evaluator encodes probe texts with the vocabulary the model was trained on
            o.put("vocabulary", s.vocabularyFile().toAbsolutePath().toString());
        }
        return o;
    }
}
