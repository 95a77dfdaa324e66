package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.report.Report;
import dev.d2v.evaluate.results.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.evaluate.results.EvalEventPublisher;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.pipelines.eval.CheckpointEvaluation;
import dev.d2v.train.finetune.FineTune;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v evaluate --checkpoint DIR`: linear probe, k-NN and fine-tuning of one checkpoint against a random-init
 * baseline.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluates a checkpoint: frozen-encoder features (mean-pooled), a linear probe and k-NN per probe",
                "task, fine-tuning of the encoder with a classification head (a fixed small budget), and the same for",
                "a randomly initialised encoder of the same shape; writes results JSON and the HTML report under --out."})
public final class EvaluateCommand implements java.util.concurrent.Callable<Integer> {

    static final class What {
        @Option(names = "--checkpoint", paramLabel = "DIR", description = "Evaluate one checkpoint step folder")
        Path checkpoint;

        @Option(names = "--follow", description = "Follow d2v.checkpoints and evaluate checkpoints as they arrive (until Ctrl-C)")
        boolean follow;
    }

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    @Option(names = "--policy", defaultValue = "newest", paramLabel = "each|newest",
            description = "--follow: evaluate each checkpoint, or only the newest when behind (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--group", defaultValue = "d2v-evaluator", description = "--follow: consumer group (default: ${DEFAULT-VALUE})")
    String group;

    @Option(names = "--publish", negatable = true,
            description = "Publish results to d2v.eval (default: on with --follow, off with --checkpoint)")
    Boolean publish;

    @Option(names = {"--task", "--probe-dir"}, paramLabel = "NAME|DIR", description = "Probe task(s) (default: the shipped tasks of each trained modality)")
    List<String> tasks = List.of();

    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "At most N training records per task (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "At most N test records per task (0 = all)")
    int testLimit;

    @Option(names = "--out", paramLabel = "DIR", description = "Results, feature cache and report (default: <run>/eval next to the "
            + "checkpoints folder; with --follow .d2v/eval)")
    Path out;

    @Option(names = "--json", description = "Print one JSON object per result on stdout")
    boolean json;

    @Option(names = "--no-finetune", description = "Skip the fine-tuning protocol (linear probe and k-NN only)")
    boolean noFinetune;

    @Option(names = "--finetune-epochs", paramLabel = "E",
            description = "Fine-tuning budget in passes over each task's training split (default: a fixed number of updates, --finetune-steps)")
    Integer finetuneEpochs;

    @Option(names = "--finetune-steps", paramLabel = "N",
            description = "Fine-tuning budget in updates of " + FineTune.Config.DEFAULT_BATCH_SIZE + " samples (default: "
                    + FineTune.Config.DEFAULT_STEPS + ")")
    Long finetuneSteps;

    @Mixin
    dev.d2v.pipelines.train.DeviceOptions devices;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        D2vConfig c = cfg.load();
        ai.djl.Device dev = devices.open();
        Path dir = out != null ? out.toAbsolutePath()
                : what.follow ? Path.of(".d2v", "eval").toAbsolutePath()
                : what.checkpoint.toAbsolutePath().normalize().getParent().getParent().resolve("eval");
        Files.createDirectories(dir);
        CheckpointEvaluation e = new CheckpointEvaluation(cache.context(c), new FeatureCache(dir.resolve("features")),
                new CheckpointEvaluation.Options(tasks, trainLimit, testLimit, 256, 7, dev,
                        FrozenFeatureProbes.Config.defaults(), finetuneConfig()),
                msg -> System.err.println(msg));
        boolean publishing = publish != null ? publish : what.follow;
        try (EvalEventPublisher publisher = !publishing ? null
                : new EvalEventPublisher(c.kafka().clientProps(), c.topicNames(), java.time.Duration.ofSeconds(30))) {
            if (!what.follow) {
                Path folder = what.checkpoint.toAbsolutePath().normalize();
                List<EvalResult> results = record(e.evaluate(folder), dir, folder.getParent().getParent(), publisher);
                print(results, dir);
                return 0;
            }
            return follow(c, e, dir, publisher);
        }
    }

    /** Results file, d2v.eval events, report (the metrics file of the run that wrote the checkpoint, when there is one). */
    private static List<EvalResult> record(List<EvalResult> results, Path dir, Path runDir, EvalEventPublisher publisher)
            throws java.io.IOException {
        ResultsFile.merge(dir.resolve("results"), results);
        if (publisher != null) {
            publisher.publish(results, Instant.now());
        }
        Report.rebuild(dir.resolve("results"), runDir.resolve("metrics.jsonl"), dir.resolve("report.html"), Instant.now());
        return results;
    }

    private void print(List<EvalResult> results, Path dir) {
        if (json) {
            results.forEach(r -> System.out.println(r.toJsonLine()));
        } else {
            System.out.println(Report.terminalTable(results));
            System.out.println("report: " + dir.resolve("report.html"));
        }
    }

    private int follow(D2vConfig c, CheckpointEvaluation e, Path dir, EvalEventPublisher publisher) throws Exception {
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread main = Thread.currentThread();
        Thread hook = new Thread(() -> {
            running.set(false);
            try {
                main.join(60_000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "evaluate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        dev.d2v.evaluate.follow.Evaluator evaluator = event -> {
            Path folder = Path.of(event.location());
            return record(e.evaluate(folder), dir, folder.getParent().getParent(), publisher);
        };
        dev.d2v.evaluate.follow.CheckpointFollower follower = new dev.d2v.evaluate.follow.CheckpointFollower(evaluator,
                dev.d2v.evaluate.follow.FollowerState.load(dir.resolve("follower-state.json")),
                dev.d2v.evaluate.follow.FollowPolicy.parse(policy), o -> {
                    System.err.println("checkpoint " + o.checkpoint().checkpointId() + " (step " + o.checkpoint().step()
                            + "): " + o.action() + (o.reason() == null || o.reason().isEmpty() ? "" : ", " + o.reason()));
                    print(o.results(), dir);
                }, java.time.Clock.systemUTC());
        System.err.println("following " + c.topicNames().checkpoints() + " on " + c.kafka().bootstrap() + "; results in " + dir);
        try (dev.d2v.evaluate.follow.CheckpointEventSource source = new dev.d2v.evaluate.follow.CheckpointEventSource(
                c.kafka().clientProps(), c.topicNames(), group)) {
            follower.run(source, running::get, java.time.Duration.ofSeconds(1));
        }
        return 0;
    }

    /** The fine-tuning settings from the options; null with --no-finetune. */
    FineTune.Config finetuneConfig() {
        if (noFinetune) {
            if (finetuneEpochs != null || finetuneSteps != null) {
                throw new UserError("--no-finetune and a fine-tuning budget (--finetune-epochs/--finetune-steps) exclude each other");
            }
            return null;
        }
        if (finetuneEpochs != null && finetuneSteps != null) {
            throw new UserError("give the fine-tuning budget as --finetune-epochs or --finetune-steps, not both");
        }
        FineTune.Config c = FineTune.Config.defaults();
        try {
            if (finetuneEpochs != null) {
                if (finetuneEpochs < 1) {
                    throw new UserError("--finetune-epochs must be >= 1, got " + finetuneEpochs);
                }
                return c.withEpochs(finetuneEpochs);
            }
            if (finetuneSteps != null && finetuneSteps < 1) {
                throw new UserError("--finetune-steps must be >= 1, got " + finetuneSteps);
            }
            return finetuneSteps != null ? c.withSteps(finetuneSteps) : c;
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
