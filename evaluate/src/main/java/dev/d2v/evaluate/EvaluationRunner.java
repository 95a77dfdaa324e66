package dev.d2v.evaluate;

import ai.djl.Device;
import dev.d2v.evaluate.cpu.CpuShare;
import dev.d2v.evaluate.cpu.Nice;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.follow.CheckpointEventSource;
import dev.d2v.evaluate.follow.CheckpointFollower;
import dev.d2v.evaluate.follow.Evaluator;
import dev.d2v.evaluate.follow.FollowerState;
import dev.d2v.evaluate.follow.KafkaUnavailableException;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.promote.Promoter;
import dev.d2v.evaluate.report.Report;
import dev.d2v.evaluate.results.EvalEventPublisher;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.PromotionEvent;
import dev.d2v.ingest.data.DataContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The evaluation stage as an application: one checkpoint ({@link #evaluate}) or every checkpoint announced on
 * d2v.checkpoints ({@link #follow}), each recorded as a results file, d2v.eval events (when publishing) and the
 * rebuilt HTML report, and printed as a table or JSON lines. `d2v evaluate` maps its options to
 * {@link EvaluationSettings} and calls this; the demo can call it in-process with the same settings.
 *
 * <pre>
 * settings ──► CpuShare (threads, duty cycle) ──► renice (own process only) ──► device with that many threads
 * checkpoint ──► CheckpointEvaluation ──► ResultsFile.merge ──► EvalEventPublisher ──► Report.rebuild ──► print
 * d2v.checkpoints ──► CheckpointFollower (state file, policy) ──► the same per checkpoint, until a stop condition
 * </pre>
 */
public final class EvaluationRunner {

    /** Opens the compute device with at most maxThreads intra-op threads (before the engine loads). */
    @FunctionalInterface
    public interface DeviceOpener {
        Device open(int maxThreads);
    }

    /** Why {@link #follow} returned. */
    public enum Stop {
        /** {@link EvaluationSettings.Follow#maxCheckpoints} checkpoints were evaluated or refused. */
        MAX_CHECKPOINTS,
        /** A checkpoint at {@link EvaluationSettings.Follow#untilStep} or later was evaluated or refused. */
        UNTIL_STEP,
        /** No checkpoint event for {@link EvaluationSettings.Follow#idleStopSeconds}. */
        IDLE,
        /** {@link #stop()} or the JVM's shutdown (Ctrl-C, SIGTERM). */
        STOPPED
    }

    /**
     * @param handled checkpoints evaluated or refused by this call (superseded and already handled ones not counted)
     * @param stop    why it returned
     * @param state   the follower's state as it ended (every checkpoint it knows, by id, with its status)
     * @param out     the folder of results, state file and report
     */
    public record FollowOutcome(int handled, Stop stop, FollowerState state, Path out) {}

    /**
     * How long a stop by Ctrl-C or SIGTERM waits for an evaluation in progress: a few minutes per checkpoint are
     * usual, and a results file half recorded is redone by the next run anyway.
     */
    private static final long SHUTDOWN_WAIT_SECONDS = 60;

    private final EvaluationSettings settings;
    private final DataContext data;
    private final CpuShare cpu;
    private final Device device;
    private final PrintStream out;
    private final Consumer<String> log;
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** One evaluation per output folder: its in-memory baselines serve every later checkpoint. */
    private final Map<Path, CheckpointEvaluation> evaluations = new HashMap<>();
    /** One promoter per output folder (its state file lives there), when the settings promote. */
    private final Map<Path, Promoter> promoters = new HashMap<>();

    /**
     * Takes the evaluator's share of the machine: the CPU share's thread count, the process's priority lowered to
     * {@link EvaluationSettings#nice} when it is not 0 (before the device opens, so that the engine's threads inherit
     * it), then the device with that many threads.
     *
     * @param data    where shipped probe datasets are cached (fetched on first use)
     * @param devices opens the compute device, called once here
     * @param out     results: the table or JSON lines
     * @param log     progress lines (stderr for the command line)
     */
    public EvaluationRunner(EvaluationSettings settings, DataContext data, DeviceOpener devices, PrintStream out,
                            Consumer<String> log) {
        this.settings = settings;
        this.data = data;
        this.out = out;
        this.log = log;
        this.cpu = CpuShare.of(settings.cpuShare());
        if (settings.nice() != 0) {
            log.accept(Nice.lower(ProcessHandle.current().pid(), settings.nice()));
        }
        this.device = devices.open(cpu.threads());
    }

    /** The evaluator's share of the machine (threads and duty cycle), as the settings asked for it. */
    public CpuShare cpu() {
        return cpu;
    }

    /**
     * Evaluates the checkpoint in folder, records the results (results file, d2v.eval when publishing, report) and
     * prints them.
     */
    public List<EvalResult> evaluate(Path checkpoint) throws IOException {
        Path folder = checkpoint.toAbsolutePath().normalize();
        Path dir = settings.out() != null ? settings.out().toAbsolutePath()
                : runDir(folder).resolve("eval");
        try (EvalEventPublisher publisher = publisher()) {
            List<EvalResult> results = record(evaluation(dir).evaluate(folder), folder, dir, runDir(folder), publisher);
            print(results, dir);
            return results;
        }
    }

    /**
     * Follows d2v.checkpoints in the settings' consumer group and evaluates checkpoints as they arrive, until a stop
     * condition of {@link EvaluationSettings#follow}, {@link #stop()} or the JVM's shutdown. A shutdown hook ends the
     * polling loop and waits up to a minute for an evaluation in progress.
     */
    public FollowOutcome follow() throws IOException, InterruptedException {
        EvaluationSettings.Follow f = settings.follow();
        Path dir = (settings.out() != null ? settings.out() : EvaluationSettings.FOLLOW_OUT).toAbsolutePath();
        CheckpointEvaluation e = evaluation(dir);
        // the hook waits for the loop, not for this thread: in a process of its own this thread goes on to
        // System.exit, which blocks while hooks run, so joining it would always cost the hook's whole wait
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            running.set(false);
            try {
                stopped.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS); // an evaluation in progress finishes
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "evaluate-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        AtomicInteger handled = new AtomicInteger();
        AtomicLong lastEvent = new AtomicLong(System.nanoTime());
        AtomicReference<Stop> stop = new AtomicReference<>(Stop.STOPPED);
        try (EvalEventPublisher publisher = publisher()) {
            Evaluator evaluator = event -> {
                Path folder = f.checkpointFolder(event.location());
                return record(e.evaluate(folder), folder, dir, runDir(folder), publisher);
            };
            CheckpointFollower follower = new CheckpointFollower(evaluator,
                    FollowerState.load(dir.resolve("follower-state.json")), f.policy(), o -> {
                        log.accept("checkpoint " + o.checkpoint().checkpointId() + " (step " + o.checkpoint().step()
                                + "): " + o.action() + (o.reason() == null || o.reason().isEmpty() ? "" : ", " + o.reason()));
                        if (o.action() == CheckpointFollower.Action.EVALUATED) {
                            print(o.results(), dir);
                        }
                        if (o.action() == CheckpointFollower.Action.EVALUATED
                                || o.action() == CheckpointFollower.Action.REJECTED) {
                            handled.incrementAndGet();
                        }
                        lastEvent.set(System.nanoTime());
                    }, Clock.systemUTC());
            log.accept("following " + settings.topics().checkpoints() + " on "
                    + settings.kafka().getProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) + "; results in " + dir);
            BooleanSupplier keepGoing = () -> {
                if (f.maxCheckpoints() > 0 && handled.get() >= f.maxCheckpoints()) {
                    log.accept("stopping: " + handled.get() + " checkpoint(s) evaluated or refused (--max-checkpoints)");
                    stop.set(Stop.MAX_CHECKPOINTS);
                    return false;
                }
                if (f.untilStep() != null && handledAtOrAfter(follower.state(), f.untilStep())) {
                    log.accept("stopping: a checkpoint at step " + f.untilStep() + " or later was evaluated or refused");
                    stop.set(Stop.UNTIL_STEP);
                    return false;
                }
                if (f.idleStopSeconds() > 0 && System.nanoTime() - lastEvent.get() > f.idleStopSeconds() * 1_000_000_000L) {
                    log.accept("stopping: no checkpoint event for " + f.idleStopSeconds() + " s (--idle-stop-seconds)");
                    stop.set(Stop.IDLE);
                    return false;
                }
                return running.get();
            };
            try (CheckpointEventSource source = new CheckpointEventSource(settings.kafka(), settings.topics(), f.group())) {
                follower.run(source, keepGoing, Duration.ofSeconds(1));
            }
            return new FollowOutcome(handled.get(), stop.get(), follower.state(), dir);
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook); // a stop by option: the hook has nothing to wait for
            } catch (IllegalStateException shuttingDown) {
                // stopped by Ctrl-C: the hook is running and waits for the loop to end
            }
        }
    }

    /** Ends {@link #follow} after the evaluation in progress, from any thread. */
    public void stop() {
        running.set(false);
    }

    /**
     * Whether the follower's state has evaluated or refused a checkpoint at step >= step (superseded ones do not count:
     * the newer one that superseded them is still to come).
     */
    static boolean handledAtOrAfter(FollowerState state, long step) {
        return state.entries().values().stream()
                .anyMatch(e -> (e.status() == FollowerState.Status.DONE || e.status() == FollowerState.Status.REJECTED)
                        && e.event().step() >= step);
    }

    /** The run folder of a checkpoint folder {@code <run>/checkpoints/<step>}: where its metrics.jsonl is. */
    private static Path runDir(Path checkpointFolder) {
        return checkpointFolder.toAbsolutePath().normalize().getParent().getParent();
    }

    private CheckpointEvaluation evaluation(Path dir) throws IOException {
        CheckpointEvaluation known = evaluations.get(dir);
        if (known != null) {
            return known;
        }
        Files.createDirectories(dir);
        CheckpointEvaluation e = new CheckpointEvaluation(data, new FeatureCache(dir.resolve("features")),
                new CheckpointEvaluation.Options(settings.tasks(), settings.trainLimit(), settings.testLimit(), 256, 7,
                        device, FrozenFeatureProbes.Config.defaults(settings.readout()), settings.finetune(), cpu),
                log);
        evaluations.put(dir, e);
        return e;
    }

    /** The d2v.eval publisher when publishing, else null (try-with-resources skips it). */
    private EvalEventPublisher publisher() {
        return settings.publish()
                ? new EvalEventPublisher(settings.kafka(), settings.topics(), Duration.ofSeconds(30)) : null;
    }

    /**
     * Results file, d2v.eval events, report (the metrics file of the run that wrote the checkpoint, when there is one),
     * then the promotion when the settings promote (state, d2v.promotions, the current package).
     */
    private List<EvalResult> record(List<EvalResult> results, Path checkpoint, Path dir, Path runDir,
                                    EvalEventPublisher publisher) throws IOException {
        ResultsFile.merge(dir.resolve("results"), results);
        if (publisher != null) {
            try {
                publisher.publish(results, Instant.now());
            } catch (RuntimeException e) {   // no acknowledgement: the broker, not the checkpoint
                throw new KafkaUnavailableException("could not publish to " + publisher.topic() + ": " + e.getMessage(), e);
            }
        }
        Report.rebuild(dir.resolve("results"), runDir.resolve("metrics.jsonl"), dir.resolve("report.html"), Instant.now());
        if (settings.promotion() != null) {
            List<PromotionEvent> promoted;
            try {
                promoted = promoter(dir).consider(checkpoint, results);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("promoting " + checkpoint + " failed: " + e.getMessage(), e);
            }
            if (publisher != null) {
                for (PromotionEvent p : promoted) {
                    try {
                        publisher.publish(p);
                    } catch (RuntimeException e) {
                        throw new KafkaUnavailableException("could not publish a promotion: " + e.getMessage(), e);
                    }
                }
            }
        }
        return results;
    }

    private Promoter promoter(Path dir) throws IOException {
        Promoter p = promoters.get(dir);
        if (p == null) {
            p = new Promoter(settings.promotion().policy(), dir, settings.promotion().exporter(), log);
            promoters.put(dir, p);
        }
        return p;
    }

    private void print(List<EvalResult> results, Path dir) {
        if (settings.json()) {
            results.forEach(r -> out.println(r.toJsonLine()));
        } else {
            out.println(Report.terminalTable(results));
            out.println("report: " + dir.resolve("report.html"));
        }
    }
}
