package dev.d2v.pipelines.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.pipelines.train.ModelFit;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LrScaling;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.Trainer;
import dev.d2v.train.stream.ContinuousLoop;
import dev.d2v.train.stream.KafkaBatchSource;
import dev.d2v.train.stream.KafkaSinks;
import dev.d2v.train.stream.SampleLog;
import dev.d2v.train.stream.StreamMetrics;
import dev.d2v.train.stream.StreamSettings;
import dev.d2v.train.stream.TrainedStep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v train`: the continuous trainer on d2v.batch.* (see train/TRAIN.md, "Continuous trainer"). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Continuous data2vec 2.0 pretraining on the minibatch topics d2v.batch.<modality>, round-robin",
                "across the enabled modalities. Resumes from the newest valid checkpoint under --out and its offsets;",
                "checkpoints every --checkpoint-every steps, every --checkpoint-minutes and on Ctrl-C / SIGTERM, each",
                "announced on d2v.checkpoints. Writes metrics.jsonl (and trained-samples.jsonl with --sample-log)."})
public final class TrainCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--modality", paramLabel = "M[,M...]", defaultValue = "image,audio,text",
            description = "Enabled modalities (default: ${DEFAULT-VALUE})")
    String modality;

    @Option(names = "--weights", paramLabel = "M=W[,...]",
            description = "Round-robin slots per cycle, e.g. image=2,audio=1,text=1 (default: 1 each)")
    String weights;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--steps", paramLabel = "N", description = "Stop at step N in total (default: run until stopped)")
    Long steps;

    @Option(names = "--schedule-steps", paramLabel = "N",
            description = "Length of the LR / tau schedules (default: --steps, else the preset's; a resumed run keeps its own)")
    Long scheduleSteps;

    @Option(names = "--minutes", paramLabel = "M", description = "Stop (with a checkpoint) after M minutes of training (default: never)")
    Double trainMinutes;

    @Option(names = "--idle-stop-seconds", paramLabel = "S", description = "Stop after S seconds without any batch (default: never)")
    Long idleStop;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: .d2v/runs/train)")
    Path out;

    @picocli.CommandLine.Mixin
    dev.d2v.pipelines.train.DeviceOptions devices;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation and masks (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "1000", paramLabel = "N", description = "Steps between checkpoints, 0 = by time only (default: ${DEFAULT-VALUE})")
    long every;

    @Option(names = "--checkpoint-minutes", defaultValue = "10", paramLabel = "T", description = "Minutes between checkpoints, 0 = by steps only (default: ${DEFAULT-VALUE})")
    double minutes;

    @Option(names = "--keep", defaultValue = "3", paramLabel = "K", description = "Keep the last K checkpoints (default: ${DEFAULT-VALUE})")
    int keep;

    @Option(names = "--keep-every", defaultValue = "10000", paramLabel = "M", description = "Also keep every checkpoint whose step is a multiple of M, 0 = none (default: ${DEFAULT-VALUE})")
    long keepEvery;

    @Option(names = "--rollback-after", defaultValue = "5", paramLabel = "N", description = "Non-finite losses in a row that roll back to the last checkpoint (default: ${DEFAULT-VALUE})")
    int rollbackAfter;

    @Option(names = "--prefetch", defaultValue = "4", paramLabel = "N", description = "Decoded minibatches queued per modality (default: ${DEFAULT-VALUE})")
    int prefetch;

    @Option(names = "--max-wait-ms", defaultValue = "200", paramLabel = "MS", description = "How long a modality's turn waits before the next one gets it (default: ${DEFAULT-VALUE})")
    long maxWaitMs;

    @Option(names = "--metrics-port", defaultValue = "0", paramLabel = "PORT", description = "Serve Prometheus metrics on http://0.0.0.0:PORT/metrics, 0 = off (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--sample-log", description = "Write trained-samples.jsonl: the sample ids of every step")
    boolean sampleLog;

    @Option(names = "--lr-scaling", defaultValue = "linear", paramLabel = "RULE",
            description = {"Per-modality learning rate from the modality's batch size (config batch.<modality>): linear",
                    "(lr x batch / reference), sqrt or none (default: ${DEFAULT-VALUE})"})
    String lrScaling;

    @Option(names = "--lr-reference-batch", defaultValue = "0", paramLabel = "N",
            description = "The batch size that trains at the preset's learning rate; 0 = the largest enabled one (default: ${DEFAULT-VALUE})")
    int lrReferenceBatch;

    @Option(names = "--vocab", paramLabel = "FILE", description = "Text vocabulary the preprocess job used (default: <cacheDir>/vocab/text.vocab)")
    Path vocab;

    @Mixin
    ConfigOptions cfg;

    @Override
    public Integer call() throws Exception {
        D2vConfig c = cfg.load();
        List<Modality> modalities = parseModalities(modality);
        Map<Modality, Integer> w = parseWeights(weights, modalities);
        Device dev = devices.open();
        Path run = (out != null ? out : Path.of(".d2v", "runs", "train")).toAbsolutePath();
        Files.createDirectories(run);
        Path checkpoints = run.resolve("checkpoints");
        Topics topics = c.topics().names();

        Transforms transforms = Transforms.defaults();
        Vocabulary vocabulary = null;
        if (modalities.contains(Modality.TEXT)) {
            Path file = vocab != null ? vocab : c.data().cachePath().resolve("vocab").resolve("text.vocab");
            if (!Files.isRegularFile(file)) {
                throw new UserError("text training needs the vocabulary the preprocess job used: " + file
                        + " does not exist (run ./d2v preprocess first, or pass --vocab FILE)");
            }
            vocabulary = Vocabulary.load(file);
        }
        Data2VecConfig presetConfig = modelOptions.config();
        long scheduleLength = scheduleSteps != null ? scheduleSteps : steps != null ? steps : presetConfig.optim().totalSteps();
        Map<Modality, Integer> batchSizes = new EnumMap<>(Modality.class);
        modalities.forEach(m -> batchSizes.put(m, c.batch().of(m)));
        Data2VecConfig model;
        try {
            model = keepSchedule(lrScaling().apply(ModelFit.fit(presetConfig, modalities, transforms, vocabulary)
                    .forSteps(scheduleLength), batchSizes, lrReferenceBatch), checkpoints);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Map<Modality, Long> configHashes = new EnumMap<>(Modality.class);
        for (Modality m : modalities) {   // what the preprocess job stamps on batches made with these settings
            configHashes.put(m, transforms.configHash(m, m == Modality.TEXT ? vocabulary : null));
        }
        StreamSettings settings = new StreamSettings(w, Duration.ofMillis(maxWaitMs), prefetch, every,
                minutes > 0 ? Duration.ofMillis((long) (minutes * 60_000)) : null, new RetentionPolicy(keep, keepEvery),
                rollbackAfter, steps != null ? steps : Long.MAX_VALUE, idleStop != null ? Duration.ofSeconds(idleStop) : null);
        ObjectNode runInfo = runInfo(c, modalities, w, transforms, vocabulary);
        if (vocabulary != null) { // the evaluator encodes probe texts with the vocabulary the model was trained on
            runInfo.put("vocabulary", (vocab != null ? vocab : c.data().cachePath().resolve("vocab").resolve("text.vocab"))
                    .toAbsolutePath().toString());
        }

        Consumer<String> log = msg -> System.out.println("\n" + msg);
        StringBuilder turns = new StringBuilder();
        w.forEach((m, n) -> turns.append(turns.length() == 0 ? "" : ", ").append(m.id()).append(" x").append(n));
        StringBuilder scales = new StringBuilder();
        for (Modality m : modalities) {
            scales.append(scales.length() == 0 ? "" : ", ").append(String.format("%s %d (lr x %.3g)", m.id(),
                    batchSizes.get(m), model.modality(m).lrScale()));
        }
        System.out.printf("train %s from %s.batch.*, preset %s, %s, bootstrap %s%nbatches: %s%n", turns, topics.prefix(),
                modelOptions.describe(), dev, c.kafka().bootstrap(), scales);
        AtomicBoolean stop = new AtomicBoolean();
        long deadline = System.nanoTime() + (long) ((trainMinutes == null ? 0 : trainMinutes) * 60e9);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.set(true);
            try {
                done.await();   // the loop finishes its step and writes the shutdown checkpoint
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "train-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Trainer trainer = new Trainer(model, dev, seed);
             KafkaSinks sinks = new KafkaSinks(c.kafka().clientProps(), topics, log);
             StreamMetrics metrics = new StreamMetrics(run.resolve("metrics.jsonl"), metricsPort);
             SampleLog samples = sampleLog ? new SampleLog(run.resolve("trained-samples.jsonl")) : null) {
            Map<String, Long> offsets = ContinuousLoop.resume(trainer, checkpoints, System.out::println);
            if (metrics.port() > 0) {
                System.out.println("metrics: http://0.0.0.0:" + metrics.port() + "/metrics");
            }
            ContinuousLoop.Outcome o;
            try (KafkaBatchSource source = KafkaBatchSource.open(c.kafka().clientProps(), topics, modalities, offsets,
                    prefetch, MinibatchCodec.inline(), configHashes, log);
                 Progress progress = new Progress("train", steps != null ? steps : 0)) {
                progress.set(trainer.step(), "");
                List<Consumer<TrainedStep>> listeners = new ArrayList<>();
                listeners.add(metrics);
                if (samples != null) {
                    listeners.add(samples);
                }
                listeners.add(progressLine(progress));
                ContinuousLoop.Hooks hooks = new ContinuousLoop.Hooks(listeners, d -> {
                    sinks.deadLetter(d);
                    metrics.deadLetter();
                }, e -> {
                    sinks.checkpoint(e);
                    metrics.checkpoint();
                }, log);
                o = ContinuousLoop.run(trainer, source, offsets, settings, checkpoints, runInfo, hooks,
                        () -> stop.get() || trainMinutes != null && System.nanoTime() - deadline > 0);
            } finally {
                sinks.flush();
            }
            System.out.printf("%s after %d steps (step %d): %d dead letters, %d rollbacks, %d checkpoints, "
                            + "data wait %.1f%%, %.1f samples/s%n", o.reason(), o.stepsThisRun(), trainer.step(),
                    o.deadLetters(), o.rollbacks(), o.checkpoints(), 100 * o.dataWaitFraction(), o.samplesPerSecond());
            if (o.lastCheckpoint() != null) {
                Path enc = TrainerCheckpoints.exportEncoder(trainer, run.resolve("encoder"), o.lastCheckpoint().checkpointId());
                System.out.println("encoder: " + enc);
            }
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C / SIGTERM: the hook runs and waits for done
            }
        }
        return 0;
    }

    private LrScaling lrScaling() {
        try {
            return LrScaling.parse(lrScaling);
        } catch (IllegalArgumentException e) {
            throw new UserError("--lr-scaling: " + e.getMessage());
        }
    }

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

    static List<Modality> parseModalities(String s) {
        List<Modality> out = new ArrayList<>();
        for (String part : s.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            Modality m = part.trim().equalsIgnoreCase("all") ? null : Modality.parse(part.trim());
            if (m == null) {
                return List.of(Modality.values());
            }
            if (!out.contains(m)) {
                out.add(m);
            }
        }
        if (out.isEmpty()) {
            throw new UserError("--modality names no modality: '" + s + "'");
        }
        return out;
    }

    /** "image=2,audio=1" over the enabled modalities; an enabled modality not named gets 1. */
    static Map<Modality, Integer> parseWeights(String s, List<Modality> enabled) {
        Map<Modality, Integer> w = new EnumMap<>(Modality.class);
        enabled.forEach(m -> w.put(m, 1));
        if (s == null || s.isBlank()) {
            return w;
        }
        for (String part : s.split(",")) {
            String[] kv = part.split("=");
            if (kv.length != 2) {
                throw new UserError("--weights takes M=W pairs separated by commas, got '" + part + "'");
            }
            Modality m = Modality.parse(kv[0].trim());
            if (!enabled.contains(m)) {
                throw new UserError("--weights names " + m.id() + ", which --modality does not enable");
            }
            try {
                w.put(m, Integer.parseInt(kv[1].trim()));
            } catch (NumberFormatException e) {
                throw new UserError("--weights: '" + kv[1] + "' is not a whole number");
            }
        }
        return w;
    }

    /** A resumed run keeps the schedules it started with, unless --schedule-steps says otherwise. */
    private Data2VecConfig keepSchedule(Data2VecConfig model, Path checkpoints) throws java.io.IOException {
        if (scheduleSteps != null) {
            return model;
        }
        var newest = CheckpointStore.newestValid(checkpoints).checkpoint();
        if (newest.isEmpty()) {
            return model;
        }
        Data2VecConfig saved = TrainerCheckpoints.modelConfig(newest.get().manifest());
        return model.withOptim(saved.optim()).withEma(saved.ema());
    }

    private static ObjectNode runInfo(D2vConfig c, List<Modality> modalities, Map<Modality, Integer> w, Transforms t,
                                      Vocabulary vocab) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("mode", "train");
        o.put("topics_prefix", c.topics().prefix());
        modalities.forEach(m -> o.withArray("modalities").add(m.id()));
        ObjectNode weights = o.putObject("weights");
        w.forEach((m, n) -> weights.put(m.id(), n));
        o.set("transforms", json.valueToTree(t));
        if (vocab != null) {
            o.put("vocabulary_hash", Long.toHexString(vocab.contentHash()));
        }
        return o;
    }
}
