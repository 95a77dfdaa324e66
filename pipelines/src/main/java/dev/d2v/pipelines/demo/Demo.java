package dev.d2v.pipelines.demo;

import dev.d2v.evaluate.EvaluationRunner;
import dev.d2v.evaluate.EvaluationSettings;
import dev.d2v.evaluate.finetune.FineTune;
import dev.d2v.evaluate.follow.FollowPolicy;
import dev.d2v.evaluate.follow.FollowerState;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.report.Report;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.Modality;
import dev.d2v.infra.PrivateFiles;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.ingest.Ingestor;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.Sources;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Datasets;
import dev.d2v.pipelines.ChildProcess;
import dev.d2v.preprocess.job.LocalPreprocessRunner;
import dev.d2v.preprocess.job.LocalPreprocessSettings;
import dev.d2v.preprocess.job.PreprocessProgress;
import dev.d2v.preprocess.job.RetainedState;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LrScaling;
import dev.d2v.train.run.Devices;
import dev.d2v.train.stream.StreamSettings;
import dev.d2v.train.stream.StreamTrainSettings;
import dev.d2v.train.stream.StreamTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Every stage end to end on this machine, each through its own runner with typed settings: a local broker (storage
 * under the demo folder), the sample data ingested (train split; what the raw topics already hold is not sent again),
 * the preprocessing jobs bounded on a Flink MiniCluster while any raw partition is ahead of the job's committed offsets
 * or a cancelled job's checkpoint is retained (restored: its pending samples are not lost), the continuous trainer for
 * the time budget with the evaluator following its checkpoints in a child process, the final checkpoint's evaluation
 * (linear probe + k-NN against random init and raw input features, published to d2v.eval), and the summary table.
 *
 * <p>A stop request (Ctrl-C) lets the running stage finish cleanly (the trainer checkpoints) and skips the rest; a
 * second run resumes from the demo folder.
 */
public final class Demo {

    /** The exit code of a run stopped by request (128 + SIGINT, as a shell reports it). */
    public static final int STOPPED = 130;

    private final PipelineConfig base;
    private final DemoSettings demo;
    private final PrintStream out;
    private final PrintStream err;

    /**
     * @param base the pipeline configuration (config/d2v.yaml): topics, data cache, client properties; the demo points
     *             it at its own broker and replaces its batch sizes and model with the demo's
     */
    public Demo(PipelineConfig base, DemoSettings demo, PrintStream out, PrintStream err) {
        this.base = base;
        this.demo = demo;
        this.out = out;
        this.err = err;
    }

    /** Runs every stage; 0 when the summary was printed, {@link #STOPPED} when stop turned true on the way. */
    public int run(BooleanSupplier stop) throws Exception {
        long t0 = System.nanoTime();
        Path dir = Path.of(demo.dir()).toAbsolutePath();
        Files.createDirectories(dir);
        stage(1, "local Kafka broker, storage " + dir.resolve("kafka"));
        int port = demo.port() == 0 ? LocalKafka.freePort() : demo.port();
        try (LocalKafka broker = LocalKafka.start(new LocalKafka.Settings(dir.resolve("kafka"), port,
                base.topics().maxMessageBytes(), null, false, null)).keepUntilClosed()) {
            PipelineConfig c = demoConfig(base, demo, broker.bootstrap());
            Path cfgFile = dir.resolve("d2v.yaml");
            PrivateFiles.writeString(cfgFile, c.toYaml());   // owner-only: client properties may hold credentials
            out.println("bootstrap: " + broker.bootstrap() + "; configuration " + cfgFile);
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                admin.ensureTopics(c.topics());
            }
            return stages(c, cfgFile, dir, stop, t0);
        }
    }

    private int stages(PipelineConfig c, Path cfgFile, Path dir, BooleanSupplier stop, long t0) throws Exception {
        List<Modality> modalities = demo.modalityList();
        stage(2, "sample data and ingestion (train split)");
        DataContext ctx = new DataContext(c.data().cachePath(), c.data().seed(), 0, err::println);
        for (Modality m : modalities) {
            ingest(c, ctx, m, demo.datasets().get(m.id()), demo.recordsOf(m));
            if (stop.getAsBoolean()) {
                return STOPPED;
            }
        }
        List<String> probeTasks = probeTasks(ctx, modalities);

        stage(3, "preprocessing jobs (Flink MiniCluster, bounded)");
        Path vocab = dir.resolve("text.vocab");
        if (!preprocess(c, cfgFile, dir.resolve("flink"), vocab, modalities, stop)) {
            return STOPPED;
        }
        out.println("batch topics: " + batchCounts(c, modalities));

        Path run = dir.resolve("run");
        Path eval = dir.resolve("eval");
        long stepBefore = newest(run).map(v -> v.manifest().step()).orElse(-1L);
        stage(4, String.format(Locale.ROOT, "continuous trainer on CPU, %.1f minutes at most%s", demo.trainMinutes(),
                demo.evaluateWhileTraining() ? String.format(Locale.ROOT, ", the evaluator following its checkpoints"
                        + " (own process, %.0f%% of the cores, nice %d)", 100 * demo.evaluatorCpuShare(),
                        demo.evaluatorNice()) : ""));
        ChildProcess follower = demo.evaluateWhileTraining() ? startFollower(c, cfgFile, eval, probeTasks) : null;
        try {
            new StreamTrainer(out).run(trainSettings(c, modalities, run, vocab), stop);
            Optional<CheckpointStore.Verified> newest = newest(run);
            if (newest.isEmpty()) {
                throw new IllegalStateException("the trainer wrote no checkpoint (no batches? see the lines above)");
            }
            if (stop.getAsBoolean()) {
                return STOPPED;
            }
            String finalId = newest.get().id();   // as its event named it

            stage(5, "evaluation of " + finalId + ": linear probe + k-NN vs random init and raw features"
                    + (demo.finetune() ? " + fine-tuning" : ""));
            boolean done = false;
            if (follower != null) {
                // a checkpoint written by this run was announced on d2v.checkpoints: the follower gets to it
                boolean announced = newest.get().manifest().step() != stepBefore;
                done = awaitFollower(follower, eval.resolve("follower-state.json"), finalId, announced, stop);
                follower.stop(Duration.ofSeconds(60));
                follower = null;
            }
            if (!done && !stop.getAsBoolean()) {
                out.println("evaluating " + finalId + " in this process");
                EvaluationSettings once = evaluationSettings(c, eval, probeTasks, 1.0, 0, EvaluationSettings.Follow.defaults());
                int threads = demo.threads() > 0 ? demo.threads() : Runtime.getRuntime().availableProcessors();
                new EvaluationRunner(once, ctx, max -> Devices.open("cpu", Math.min(threads, max)), out, err::println)
                        .evaluate(newest.get().folder());
            }
            if (stop.getAsBoolean()) {
                return STOPPED;
            }

            stage(6, String.format(Locale.ROOT, "summary after %.1f minutes", (System.nanoTime() - t0) / 60e9));
            long step = newest.get().manifest().step();
            List<EvalResult> results = ResultsFile.readAll(eval.resolve("results"), new ArrayList<>()).stream()
                    .filter(r -> r.step() == step).toList();
            out.println(Report.terminalTable(results));
            out.println("report: " + eval.resolve("report.html"));
            out.println("run folder: " + run + " (checkpoints, metrics.jsonl); ./d2v demo again resumes from it");
            return 0;
        } finally {
            if (follower != null) {   // a stop or a failure: the follower stops too (SIGTERM, its own clean stop)
                follower.stop(Duration.ofSeconds(60));
            }
        }
    }

    /**
     * Runs the bounded preprocessing jobs that have work: a modality whose raw partitions are ahead of its job's
     * committed offsets, or whose cancelled job left a retained checkpoint (its pending samples). Every modality
     * enabled: one job for all (the drained ones finish at once); else one job per modality left behind. False when
     * stopped on the way (the cancelled job's last checkpoint is retained for the next run).
     */
    private boolean preprocess(PipelineConfig c, Path cfgFile, Path flinkState, Path vocab, List<Modality> modalities,
                               BooleanSupplier stop) throws Exception {
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            List<PreprocessProgress> progress = PreprocessProgress.read(admin.admin(), c.topics().prefix(), modalities);
            progress.forEach(p -> out.println(p.describe()));
            List<Modality> behind = PreprocessProgress.behind(progress);
            List<List<Modality>> jobs = modalities.size() == Modality.values().length ? List.of(modalities)
                    : modalities.stream().map(List::of).toList();
            jobs = jobs.stream().filter(j -> j.stream().anyMatch(behind::contains)
                    || RetainedState.of(flinkState, c.topics().prefix(), j).newest().isPresent()).toList();
            if (jobs.isEmpty()) {
                out.println("every raw record was preprocessed by an earlier run: skipped");
                return true;
            }
            var ends = PreprocessProgress.rawEnds(admin.admin(), c.topics().prefix(), modalities);
            for (List<Modality> job : jobs) {
                String m = job.size() == Modality.values().length ? "all" : job.get(0).id();
                out.println("$ ./d2v preprocess --config " + cfgFile + " --modality " + m + " --bounded --vocab " + vocab
                        + " --state-dir " + flinkState + "   (in this process)");
                try {
                    new LocalPreprocessRunner(c, out).run(LocalPreprocessSettings.of(job).withBounded(true)
                            .withVocabulary(vocab).withStateDir(flinkState));
                } catch (Exception e) {
                    if (!stop.getAsBoolean()) {
                        throw e;
                    }
                }
                if (stop.getAsBoolean()) {
                    return false;
                }
            }
            PreprocessProgress.markDrained(admin.admin(), c.topics().prefix(), behind, ends);
            return true;
        }
    }

    /** The continuous trainer's settings: the service defaults, with the demo's budget, schedule and checkpoints. */
    private StreamTrainSettings trainSettings(PipelineConfig c, List<Modality> modalities, Path run, Path vocab) {
        StreamSettings d = StreamSettings.defaults(modalities);
        StreamSettings loop = new StreamSettings(d.weights(), d.maxWait(), d.queueCapacity(), demo.checkpointEvery(),
                d.checkpointInterval(), d.retention(), d.rollbackAfter(), d.targetStep(),
                Duration.ofSeconds(demo.idleStopSeconds()), Duration.ofMillis((long) (demo.trainMinutes() * 60_000)));
        PipelineConfig.Model model = c.model();
        Data2VecConfig preset = Data2VecConfig.preset(model.preset()).withOverrides(model.set());
        String described = Data2VecConfig.describe(model.preset(), model.set());
        return new StreamTrainSettings(c, modalities, preset, described, LrScaling.LINEAR, 0, demo.scheduleSteps(), run,
                vocab, "cpu", demo.threads() > 0 ? demo.threads() : null, 1, loop, 0, null, false, null);
    }

    /** The evaluation of the demo's probe tasks, results and report under eval. */
    private EvaluationSettings evaluationSettings(PipelineConfig c, Path eval, List<String> tasks, double cpuShare, int nice,
                                                  EvaluationSettings.Follow follow) {
        return new EvaluationSettings(tasks, demo.probeTrainLimit(), demo.probeTestLimit(), eval, true, false,
                demo.finetune() ? FineTune.Config.defaults() : null, FrozenFeatureProbes.DEFAULT_READOUT, cpuShare, nice, follow, c.kafka().clientProps(),
                c.topicNames(), null);
    }

    /**
     * The evaluator that follows the trainer: `./d2v evaluate --follow` in a child JVM, so that its scheduling
     * priority and CPU share are its own and not the trainer's, and its PyTorch thread count does not change the
     * trainer's (libtorch's is per process).
     */
    private ChildProcess startFollower(PipelineConfig c, Path cfgFile, Path eval, List<String> tasks) throws IOException {
        List<String> args = new ArrayList<>(List.of("evaluate", "--config", cfgFile.toString(), "--out", eval.toString(),
                "--publish", "--train-limit", String.valueOf(demo.probeTrainLimit()), "--test-limit",
                String.valueOf(demo.probeTestLimit())));
        if (!demo.finetune()) {
            args.add("--no-finetune");
        }
        tasks.forEach(t -> args.addAll(List.of("--task", t)));
        args.addAll(List.of("--follow", "--policy", FollowPolicy.NEWEST.name().toLowerCase(Locale.ROOT), "--group",
                c.topics().prefix() + "-demo-evaluator", "--checkpoint-root", eval.getParent().toString(), "--cpu-share", String.valueOf(demo.evaluatorCpuShare()),
                "--nice", String.valueOf(demo.evaluatorNice())));
        out.println("$ ./d2v " + String.join(" ", args) + "   (child process, log " + eval.resolve("follow.log") + ")");
        return ChildProcess.start(args, eval.resolve("follow.log"), out, "  [evaluator] ");
    }

    /**
     * Waits until the follower has evaluated (or refused) checkpoint finalId, as its state file says. False when it
     * will not: the checkpoint was not announced in this run and the state does not have it, the follower ended, the
     * demo is stopping, or evaluatorWaitMinutes passed; the caller then evaluates it in-process.
     */
    private boolean awaitFollower(ChildProcess follower, Path stateFile, String finalId, boolean announced,
                                  BooleanSupplier stop) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + (long) (demo.evaluatorWaitMinutes() * 60e9);
        boolean told = false;
        while (!stop.getAsBoolean()) {
            if (Files.isRegularFile(stateFile)) {
                var entry = FollowerState.load(stateFile).get(finalId);
                if (entry.isPresent() && (entry.get().status() == FollowerState.Status.DONE
                        || entry.get().status() == FollowerState.Status.REJECTED)) {
                    out.println("the evaluator finished " + finalId + " (" + entry.get().status().id() + ")");
                    return entry.get().status() == FollowerState.Status.DONE;
                }
            }
            if (!announced) {
                out.println(finalId + " was announced by an earlier run and the evaluator has no result for it:"
                        + " evaluating it here");
                return false;
            }
            if (!follower.isAlive()) {
                out.println("the evaluator ended before " + finalId + " (see " + stateFile.resolveSibling("follow.log")
                        + "): evaluating it here");
                return false;
            }
            if (System.nanoTime() > deadline) {
                out.printf(Locale.ROOT, "the evaluator did not finish %s within %.1f minutes: evaluating it here%n",
                        finalId, demo.evaluatorWaitMinutes());
                return false;
            }
            if (!told) {
                out.println("waiting for the evaluator to finish " + finalId + " (it follows d2v.checkpoints)");
                told = true;
            }
            Thread.sleep(500);
        }
        return false;
    }

    /** The base configuration pointed at the demo broker, with the demo's batch sizes and model. */
    static PipelineConfig demoConfig(PipelineConfig base, DemoSettings demo, String bootstrap) {
        Map<Modality, Integer> fallback = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            fallback.put(m, base.batch().of(m));
        }
        Map<Modality, Integer> b = demo.batchSizes(fallback);
        return base.forLocalBroker(bootstrap)
                .withBatch(new PipelineConfig.Batch(b.get(Modality.IMAGE), b.get(Modality.AUDIO), b.get(Modality.TEXT)))
                .withModel(demo.model());
    }

    /**
     * Sends the train split of a dataset (name or folder) to d2v.raw.&lt;m&gt; up to target records in the topic:
     * records already there (an earlier run) are not sent again.
     */
    private void ingest(PipelineConfig c, DataContext ctx, Modality m, String dataset, int target) throws IOException {
        String topic = c.topicNames().raw(m);
        long have;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            have = admin.list(List.of(topic)).get(0).recordCount();
        }
        if (have >= target) {
            out.printf("%s: %s already holds %d records (target %d): not ingested again%n", m.id(), topic, have, target);
            return;
        }
        Path root = sourceRoot(dataset, ctx);
        String name = Datasets.names().contains(dataset) ? dataset : String.valueOf(root.getFileName());
        out.printf("%s: %d train records of %s -> %s%n", m.id(), target - have, name, topic);
        try (Stream<RawItem> items = Sources.folder(root, name)
                .filter(i -> i.split().map("train"::equals).orElse(false)).skip(have)) {
            Ingestor.Summary s = Ingestor.send(c, items, target - have, 0, "ingest " + m.id(),
                    skip -> err.println("skipped " + skip.source() + ": " + skip.reason()));
            if (!s.ok()) {
                throw new IllegalStateException(s.failedSends() + " " + m.id() + " records were not acknowledged by the broker");
            }
        }
    }

    /** A dataset's labeled folder (fetched first if needed), or the folder itself. */
    private static Path sourceRoot(String dataset, DataContext ctx) {
        if (Datasets.names().contains(dataset)) {
            var d = Datasets.byName(dataset);
            Datasets.fetch(d, ctx);
            return d.root(ctx);
        }
        Path p = Path.of(dataset).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("demo datasets: '" + dataset + "' is neither a dataset ("
                    + Datasets.names() + ") nor a folder");
        }
        return p;
    }

    /** The ingested datasets as probe tasks, plus fashion-mnist for images when its Debian package is installed. */
    private List<String> probeTasks(DataContext ctx, List<Modality> modalities) {
        List<String> tasks = new ArrayList<>();
        for (Modality m : modalities) {
            String d = demo.datasets().get(m.id());
            tasks.add(Datasets.names().contains(d) ? d : Path.of(d).toAbsolutePath().normalize().toString());
        }
        if (modalities.contains(Modality.IMAGE) && !tasks.contains("fashion-mnist")
                && Datasets.names().contains(demo.datasets().get("image"))) {
            try {
                Datasets.fetch(Datasets.byName("fashion-mnist"), ctx);
                tasks.add("fashion-mnist");
            } catch (IllegalArgumentException notInstalled) {
                out.println("fashion-mnist not available (" + notInstalled.getMessage() + "): not probed");
            }
        }
        return tasks;
    }

    /** Committed minibatch records per batch topic. */
    private static Map<Modality, Long> batchCounts(PipelineConfig c, List<Modality> modalities) {
        Map<Modality, Long> counts = new EnumMap<>(Modality.class);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            for (Modality m : modalities) {
                counts.put(m, admin.committedCount(c.topicNames().batch(m), Duration.ofSeconds(60)));
            }
        }
        return counts;
    }

    private static Optional<CheckpointStore.Verified> newest(Path run) throws IOException {
        return CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint();
    }

    private void stage(int n, String what) {
        out.printf("%n== d2v demo %d/6: %s ==%n", n, what);
        out.flush();
    }
}
