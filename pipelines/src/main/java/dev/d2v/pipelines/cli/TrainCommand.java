package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.local.Transforms;

import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.LrScaling;
import dev.d2v.train.stream.StreamSettings;
import dev.d2v.train.stream.StreamTrainSettings;
import dev.d2v.train.stream.StreamTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v train`: the continuous trainer on d2v.batch.* (see train/TRAIN.md, "Continuous trainer"). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Continuous data2vec 2.0 pretraining on the minibatch topics d2v.batch.<modality>, round-robin",
                "across the enabled modalities. Resumes from the newest valid checkpoint under --out and its offsets;",
                "checkpoints every --checkpoint-every steps, every --checkpoint-minutes and on Ctrl-C / SIGTERM, each",
                "announced on d2v.checkpoints. Writes metrics.jsonl (and trained-samples.jsonl with --sample-log)."})
public final class TrainCommand implements Callable<Integer> {

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

    @Mixin
    DeviceOptions devices;

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

    @Option(names = "--metrics-port", defaultValue = "0", paramLabel = "PORT", description = "Serve Prometheus metrics on http://HOST:PORT/metrics, 0 = off (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", paramLabel = "HOST", description = "The address the metrics endpoint binds: 127.0.0.1 serves this machine only, 0.0.0.0 every interface (a scraper on another host, as in a Kubernetes pod) (default: ${DEFAULT-VALUE})")
    String metricsHost;

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

    @Option(names = "--init-from", paramLabel = "CHECKPOINT",
            description = {"A new run starts its trunk (the main blocks) from this checkpoint's student, e.g. an image",
                    "run's (cross-modality transfer); local encoders and decoders start new"})
    Path initFrom;

    @Override
    public Integer call() throws Exception {
        ModelOptions.checkInitFrom(initFrom);
        PipelineConfig c = cfg.load();
        modelOptions.transforms(c);   // a bad transforms.set fails here
        if (!Transforms.transformAssignments(modelOptions.overrides).isEmpty()) {
            throw new UserError("train reads batches the preprocess job made: set transforms in the configuration's "
                    + "transforms.set, which the preprocess job reads too, not with --set");
        }
        List<Modality> modalities = parseModalities(modality);
        Map<Modality, Integer> w = parseWeights(weights, modalities);
        LrScaling scaling = lrScaling();
        StreamSettings loop = new StreamSettings(w, Duration.ofMillis(maxWaitMs), prefetch, every,
                minutes > 0 ? Duration.ofMillis((long) (minutes * 60_000)) : null, new RetentionPolicy(keep, keepEvery),
                rollbackAfter, steps != null ? steps : Long.MAX_VALUE, idleStop != null ? Duration.ofSeconds(idleStop) : null,
                trainMinutes != null ? Duration.ofMillis((long) (trainMinutes * 60_000)) : null);
        StreamTrainSettings settings = new StreamTrainSettings(c, modalities, modelOptions.config(), modelOptions.describe(),
                scaling, lrReferenceBatch, scheduleSteps, out != null ? out : StreamTrainSettings.defaultOut(), vocab,
                devices.name(), devices.requestedThreads(), seed, loop, metricsPort, metricsHost, sampleLog, initFrom);
        try (StopOnShutdown stop = new StopOnShutdown("train-shutdown")) {
            new StreamTrainer(System.out).run(settings, stop);
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
}
