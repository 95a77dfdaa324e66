package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.cpu.CpuShare;
import dev.d2v.evaluate.cpu.Nice;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.follow.CheckpointFollower;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.report.Report;
import dev.d2v.evaluate.results.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.evaluate.results.EvalEventPublisher;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.evaluate.CheckpointEvaluation;
import dev.d2v.evaluate.finetune.FineTune;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v evaluate --checkpoint DIR | --follow`: linear probe, k-NN and fine-tuning of one checkpoint, or of each one
 * announced on d2v.checkpoints, against a random-init baseline, within --cpu-share of the machine.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluates a checkpoint: frozen-encoder features (mean-pooled), a linear probe and k-NN per probe",
                "task, fine-tuning of the encoder with a classification head (a fixed small budget), and the same for",
                "a randomly initialised encoder of the same shape; writes results JSON and the HTML report under --out.",
                "Beside a trainer (--follow) it keeps to --cpu-share of the machine at --nice priority."})
public final class EvaluateCommand implements java.util.concurrent.Callable<Integer> {

    /**
     * --cpu-share when following a trainer: half the machine keeps evaluations timely (a few minutes per checkpoint
     * with --policy newest) while the trainer keeps the other half; on 2 cores that is one evaluator thread and no
     * duty cycle. A one-off --checkpoint evaluation has the machine to itself by default.
     */
    static final double DEFAULT_FOLLOW_SHARE = 0.5;

    static final class What {
        @Option(names = "--checkpoint", paramLabel = "DIR", description = "Evaluate one checkpoint step folder")
        Path checkpoint;

        @Option(names = "--follow", description = "Follow d2v.checkpoints and evaluate checkpoints as they arrive (until Ctrl-C, "
                + "--max-checkpoints or --idle-stop-seconds)")
        boolean follow;
    }

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    @Option(names = "--policy", defaultValue = "newest", paramLabel = "each|newest",
            description = "--follow: evaluate each checkpoint, or only the newest when behind (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--group", defaultValue = "d2v-evaluator", description = "--follow: consumer group (default: ${DEFAULT-VALUE})")
    String group;

    @Option(names = "--max-checkpoints", defaultValue = "0", paramLabel = "N",
            description = "--follow: stop after the poll in which the N-th checkpoint was evaluated or refused (default: 0, no limit)")
    int maxCheckpoints;

    @Option(names = "--until-step", paramLabel = "N",
            description = {"--follow: stop once a checkpoint at step N or later has been evaluated or refused (also when",
                    "an earlier run of this follower already did) (default: no such stop)"})
    Long untilStep;

    @Option(names = "--idle-stop-seconds", defaultValue = "0", paramLabel = "S",
            description = "--follow: stop when no checkpoint event arrived for S seconds (default: 0, never)")
    int idleStopSeconds;

    @Option(names = "--cpu-share", paramLabel = "F",
            description = {"Fraction of the machine's cores the evaluator may use, 0 < F <= 1: its threads (PyTorch,",
                    "linear probe, k-NN) are capped at max(1, floor(F x cores)), and where one thread is more than the",
                    "share it sleeps after each chunk of work to stay within it (default: "
                            + DEFAULT_FOLLOW_SHARE + " with --follow, beside a trainer; 1 with --checkpoint)"})
    Double cpuShare;

    @Option(names = "--nice", defaultValue = "10", paramLabel = "N",
            description = "Scheduling priority of the evaluator's process (renice on every thread; 0 = leave it; only when "
                    + "`d2v evaluate` is the process, not inside another command) (default: ${DEFAULT-VALUE})")
    int nice;

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
        if (maxCheckpoints < 0 || idleStopSeconds < 0) {
            throw new UserError("--max-checkpoints and --idle-stop-seconds must be >= 0 (0 = no limit)");
        }
        CpuShare cpu = cpuShare();
        niceness();
        ai.djl.Device dev = devices.open(cpu.threads());
        System.err.println("cpu share: " + cpu.describe()
                + (devices.requestedThreads() != null && devices.requestedThreads() > cpu.threads()
                ? "; --threads " + devices.requestedThreads() + " lowered to " + cpu.threads() : ""));
        Path dir = out != null ? out.toAbsolutePath()
                : what.follow ? Path.of(".d2v", "eval").toAbsolutePath()
                : what.checkpoint.toAbsolutePath().normalize().getParent().getParent().resolve("eval");
        Files.createDirectories(dir);
        CheckpointEvaluation e = new CheckpointEvaluation(cache.context(c), new FeatureCache(dir.resolve("features")),
                new CheckpointEvaluation.Options(tasks, trainLimit, testLimit, 256, 7, dev,
                        FrozenFeatureProbes.Config.defaults(), finetuneConfig(), cpu),
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
        // the hook waits for the loop, not for this thread: in a process of its own this thread goes on to
        // System.exit, which blocks while hooks run, so joining it would always cost the hook's whole wait
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            running.set(false);
            try {
                stopped.await(60, java.util.concurrent.TimeUnit.SECONDS);   // an evaluation in progress finishes
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "evaluate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        dev.d2v.evaluate.follow.Evaluator evaluator = event -> {
            Path folder = Path.of(event.location());
            return record(e.evaluate(folder), dir, folder.getParent().getParent(), publisher);
        };
        java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong lastEvent = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
        CheckpointFollower follower = new CheckpointFollower(evaluator,
                dev.d2v.evaluate.follow.FollowerState.load(dir.resolve("follower-state.json")),
                dev.d2v.evaluate.follow.FollowPolicy.parse(policy), o -> {
                    System.err.println("checkpoint " + o.checkpoint().checkpointId() + " (step " + o.checkpoint().step()
                            + "): " + o.action() + (o.reason() == null || o.reason().isEmpty() ? "" : ", " + o.reason()));
                    if (o.action() == CheckpointFollower.Action.EVALUATED) {
                        print(o.results(), dir);
                    }
                    if (o.action() == CheckpointFollower.Action.EVALUATED || o.action() == CheckpointFollower.Action.REJECTED) {
                        finished.incrementAndGet();
                    }
                    lastEvent.set(System.nanoTime());
                }, java.time.Clock.systemUTC());
        System.err.println("following " + c.topicNames().checkpoints() + " on " + c.kafka().bootstrap() + "; results in " + dir);
        java.util.function.BooleanSupplier keepGoing = () -> {
            if (maxCheckpoints > 0 && finished.get() >= maxCheckpoints) {
                System.err.println("stopping: " + finished.get() + " checkpoint(s) evaluated or refused (--max-checkpoints)");
                return false;
            }
            if (untilStep != null && handledAtOrAfter(follower.state(), untilStep)) {
                System.err.println("stopping: a checkpoint at step " + untilStep + " or later was evaluated or refused");
                return false;
            }
            if (idleStopSeconds > 0 && System.nanoTime() - lastEvent.get() > idleStopSeconds * 1_000_000_000L) {
                System.err.println("stopping: no checkpoint event for " + idleStopSeconds + " s (--idle-stop-seconds)");
                return false;
            }
            return running.get();
        };
        try (dev.d2v.evaluate.follow.CheckpointEventSource source = new dev.d2v.evaluate.follow.CheckpointEventSource(
                c.kafka().clientProps(), c.topicNames(), group)) {
            follower.run(source, keepGoing, java.time.Duration.ofSeconds(1));
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook); // a stop by option: the hook has nothing to wait for
            } catch (IllegalStateException shuttingDown) {
                // stopped by Ctrl-C: the hook is running and waits for the loop to end
            }
        }
        return 0;
    }

    /**
     * Whether the follower's state has evaluated or refused a checkpoint at step >= step (superseded ones do not count:
     * the newer one that superseded them is still to come).
     */
    static boolean handledAtOrAfter(dev.d2v.evaluate.follow.FollowerState state, long step) {
        return state.entries().values().stream()
                .anyMatch(e -> (e.status() == dev.d2v.evaluate.follow.FollowerState.Status.DONE
                        || e.status() == dev.d2v.evaluate.follow.FollowerState.Status.REJECTED) && e.event().step() >= step);
    }

    /** --cpu-share, or its default for the mode. */
    CpuShare cpuShare() {
        double f = cpuShare != null ? cpuShare : what.follow ? DEFAULT_FOLLOW_SHARE : 1.0;
        if (!(f > 0 && f <= 1)) {
            throw new UserError("--cpu-share must be in (0, 1], got " + f);
        }
        return CpuShare.of(f);
    }

    /**
     * Lowers this process's priority so that the trainer wins when both want a core. Only when `d2v evaluate` is the
     * process: inside another command (the demo, a test) it would slow everything else in that process too.
     */
    private void niceness() {
        if (nice < 0 || nice > 19) {
            throw new UserError("--nice must be in 0..19, got " + nice);
        }
        if (nice == 0) {
            return;
        }
        if (!"evaluate".equals(dev.d2v.pipelines.Main.processCommand())) {
            System.err.println("nice: skipped, the evaluator runs inside another command (its process is not its own)");
            return;
        }
        System.err.println(Nice.lower(ProcessHandle.current().pid(), nice));
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
