package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.follow.FollowerState;
import dev.d2v.evaluate.report.Report;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.ingest.Ingestor;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.Sources;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Datasets;
import dev.d2v.pipelines.ChildProcess;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.demo.DemoSettings;
import dev.d2v.preprocess.job.LocalPreprocessRunner;
import dev.d2v.preprocess.job.LocalPreprocessSettings;
import dev.d2v.preprocess.job.PreprocessProgress;
import dev.d2v.preprocess.job.RetainedState;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v demo`: every stage end to end on this machine, with the defaults of config/demo.yaml. Starts its own broker
 * (storage under the demo folder), fetches and ingests the sample data (train split; what the raw topics already hold
 * is not sent again), runs the preprocessing jobs bounded while any raw partition is ahead of the job's committed
 * offsets or a cancelled job's checkpoint is retained (restored: its pending samples are not lost), the continuous
 * trainer for the time budget, evaluates the final checkpoint (linear probe + k-NN against random init and against raw
 * input features, published to d2v.eval) and prints the report path and the summary table. Ctrl-C stops the running
 * stage cleanly (the trainer checkpoints); a second run resumes.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs everything end to end: local broker, sample data, ingest, preprocessing (Flink MiniCluster),",
                "the continuous trainer on CPU for --minutes, evaluation of the final checkpoint against random init and raw features;",
                "ends with the HTML report and a summary table. Ctrl-C stops cleanly; a second run resumes.",
                "Defaults: config/demo.yaml."})
public final class DemoCommand implements java.util.concurrent.Callable<Integer> {

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--config-demo", paramLabel = "FILE", description = "Demo settings (default: config/demo.yaml)")
    Path demoConfig;

    @Option(names = "--minutes", paramLabel = "M", description = "Training budget in minutes (default: trainMinutes in the demo settings)")
    Double minutes;

    /** Set by Ctrl-C: the stage running finishes cleanly, the ones after it are skipped. */
    private final AtomicBoolean stopping = new AtomicBoolean();

    @Override
    public Integer call() throws Exception {
        DemoSettings demo = loadDemo().withTrainMinutes(minutes);
        D2vConfig base = cfg.load();
        Path dir = Path.of(demo.dir()).toAbsolutePath();
        Files.createDirectories(dir);
        List<Modality> modalities = demo.modalityList();
        long t0 = System.nanoTime();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopping.set(true);
            System.err.println("\nd2v demo: stopping (the running stage finishes cleanly; run ./d2v demo again to resume)");
            try {
                done.await(120, TimeUnit.SECONDS); // the broker stays up until the trainer's checkpoint is announced
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stage(1, "local Kafka broker, storage " + dir.resolve("kafka"));
            int port = demo.port() == 0 ? LocalKafka.freePort() : demo.port();
            try (LocalKafka broker = LocalKafka.start(new LocalKafka.Settings(dir.resolve("kafka"), port,
                    base.topics().maxMessageBytes(), null, false, null)).keepUntilClosed()) {
                D2vConfig c = demoKafkaConfig(base, demo, broker.bootstrap());
                Path cfgFile = dir.resolve("d2v.yaml");
                Files.writeString(cfgFile, c.toYaml());
                System.out.println("bootstrap: " + broker.bootstrap() + "; configuration " + cfgFile);
                try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                    admin.ensureTopics(c.topics());
                }
                return run(demo, c, cfgFile, dir, modalities, t0);
            }
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook waited for this
            }
        }
    }

    private int run(DemoSettings demo, D2vConfig c, Path cfgFile, Path dir, List<Modality> modalities, long t0)
            throws Exception {
        stage(2, "sample data and ingestion (train split)");
        DataContext ctx = new DataContext(c.data().cachePath(), c.data().seed(), 0, line -> System.err.println(line));
        for (Modality m : modalities) {
            ingest(c, ctx, m, demo.datasets().get(m.id()), demo.recordsOf(m));
            if (stopping.get()) {
                return 130;
            }
        }
        List<String> probeTasks = probeTasks(demo, ctx, modalities);

        stage(3, "preprocessing jobs (Flink MiniCluster, bounded)");
        Path vocab = dir.resolve("text.vocab");
        List<PreprocessProgress> progress = preprocessProgress(c, modalities);
        progress.forEach(p -> System.out.println(p.describe()));
        List<Modality> behind = PreprocessProgress.behind(progress);
        // an interrupted job's retained checkpoint holds samples past its committed offsets: restored by the rerun
        Path flinkState = dir.resolve("flink");
        List<List<Modality>> jobs = modalities.size() == Modality.values().length ? List.of(modalities)
                : modalities.stream().map(List::of).toList();
        jobs = jobs.stream().filter(j -> j.stream().anyMatch(behind::contains)
                || RetainedState.of(flinkState, c.topics().prefix(), j).newest().isPresent()).toList();
        if (jobs.isEmpty()) {
            System.out.println("every raw record was preprocessed by an earlier run: skipped");
        } else {
            // every modality: one job (the drained ones finish at once); else one job per modality left behind
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                var ends = PreprocessProgress.rawEnds(admin.admin(), c.topics().prefix(), modalities);
                for (List<Modality> job : jobs) {
                    String m = job.size() == Modality.values().length ? "all" : job.get(0).id();
                    System.out.println("$ ./d2v preprocess --config " + cfgFile + " --modality " + m + " --bounded --vocab "
                            + vocab + " --state-dir " + flinkState + "   (in this process)");
                    try {
                        new LocalPreprocessRunner(c, System.out).run(LocalPreprocessSettings.of(job).withBounded(true)
                                .withVocabulary(vocab).withStateDir(flinkState));
                    } catch (Exception e) {
                        if (!stopping.get()) {
                            throw e;
                        }
                    }
                    if (stopping.get()) {   // Ctrl-C cancelled the job: its last checkpoint is retained
                        return 130;
                    }
                }
                PreprocessProgress.markDrained(admin.admin(), c.topics().prefix(), behind, ends);
            }
        }
        System.out.println("batch topics: " + batchCounts(c, modalities));

        Path run = dir.resolve("run");
        Path eval = dir.resolve("eval");
        List<String> evaluate = new ArrayList<>(List.of("evaluate", "--config", cfgFile.toString(), "--out",
                eval.toString(), "--publish", "--train-limit", String.valueOf(demo.probeTrainLimit()), "--test-limit",
                String.valueOf(demo.probeTestLimit())));
        if (!demo.finetune()) {
            evaluate.add("--no-finetune");
        }
        probeTasks.forEach(t -> evaluate.addAll(List.of("--task", t)));
        long stepBefore = CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint()
                .map(v -> v.manifest().step()).orElse(-1L);

        stage(4, String.format(Locale.ROOT, "continuous trainer on CPU, %.1f minutes at most%s", demo.trainMinutes(),
                demo.evaluateWhileTraining() ? String.format(Locale.ROOT, ", the evaluator following its checkpoints"
                        + " (own process, %.0f%% of the cores, nice %d)", 100 * demo.evaluatorCpuShare(),
                        demo.evaluatorNice()) : ""));
        ChildProcess follower = null;
        if (demo.evaluateWhileTraining()) {
            List<String> follow = new ArrayList<>(evaluate);
            follow.addAll(List.of("--follow", "--policy", "newest", "--group", c.topics().prefix() + "-demo-evaluator",
                    "--cpu-share", String.valueOf(demo.evaluatorCpuShare()), "--nice", String.valueOf(demo.evaluatorNice())));
            System.out.println("$ ./d2v " + String.join(" ", follow) + "   (child process, log " + eval.resolve("follow.log") + ")");
            follower = ChildProcess.start(follow, eval.resolve("follow.log"), System.out, "  [evaluator] ");
        }
        try {
            List<String> train = new ArrayList<>(List.of("train", "--config", cfgFile.toString(), "--modality",
                    String.join(",", modalities.stream().map(Modality::id).toList()), "--preset", demo.model().preset(),
                    "--out", run.toString(), "--minutes", String.valueOf(demo.trainMinutes()), "--checkpoint-every",
                    String.valueOf(demo.checkpointEvery()), "--schedule-steps", String.valueOf(demo.scheduleSteps()),
                    "--idle-stop-seconds", String.valueOf(demo.idleStopSeconds()), "--vocab", vocab.toString()));
            demo.model().set().forEach(kv -> train.addAll(List.of("--set", kv)));
            if (demo.threads() > 0) {
                train.addAll(List.of("--threads", String.valueOf(demo.threads())));
            }
            subcommand(train.toArray(String[]::new));
            var newest = CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint();
            if (newest.isEmpty()) {
                throw new UserError("the trainer wrote no checkpoint (no batches? see the lines above)");
            }
            if (stopping.get()) {
                return 130;
            }
            String finalId = newest.get().folder().getFileName().toString();

            stage(5, "evaluation of " + finalId + ": linear probe + k-NN vs random init and raw features"
                    + (demo.finetune() ? " + fine-tuning" : ""));
            boolean done = false;
            if (follower != null) {
                // a checkpoint written by this run was announced on d2v.checkpoints: the follower gets to it
                boolean announced = newest.get().manifest().step() != stepBefore;
                done = awaitFollower(follower, eval.resolve("follower-state.json"), finalId, announced, demo);
                follower.stop(Duration.ofSeconds(60));
                follower = null;
            }
            if (!done && !stopping.get()) {
                List<String> once = new ArrayList<>(evaluate);
                once.addAll(List.of("--checkpoint", newest.get().folder().toString()));
                if (demo.threads() > 0) {
                    once.addAll(List.of("--threads", String.valueOf(demo.threads())));
                }
                subcommand(once.toArray(String[]::new));
            }
            if (stopping.get()) {
                return 130;
            }

            stage(6, String.format(Locale.ROOT, "summary after %.1f minutes", (System.nanoTime() - t0) / 60e9));
            long step = newest.get().manifest().step();
            List<String> problems = new ArrayList<>();
            List<EvalResult> results = ResultsFile.readAll(eval.resolve("results"), problems).stream()
                    .filter(r -> r.step() == step).toList();
            System.out.println(Report.terminalTable(results));
            System.out.println("report: " + eval.resolve("report.html"));
            System.out.println("run folder: " + run + " (checkpoints, metrics.jsonl); ./d2v demo again resumes from it");
            return 0;
        } finally {
            if (follower != null) {   // Ctrl-C or a failure: the follower stops too (SIGTERM, its own clean stop)
                follower.stop(Duration.ofSeconds(60));
            }
        }
    }

    /**
     * Waits until the follower has evaluated (or refused) checkpoint finalId, as its state file says. False when it
     * will not: the checkpoint was not announced in this run and the state does not have it, the follower ended, the
     * demo is stopping, or evaluatorWaitMinutes passed; the caller then evaluates it in-process.
     */
    private boolean awaitFollower(ChildProcess follower, Path stateFile, String finalId, boolean announced,
                                  DemoSettings demo) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + (long) (demo.evaluatorWaitMinutes() * 60e9);
        boolean told = false;
        while (!stopping.get()) {
            if (Files.isRegularFile(stateFile)) {
                var entry = FollowerState.load(stateFile).get(finalId);
                if (entry.isPresent() && (entry.get().status() == FollowerState.Status.DONE
                        || entry.get().status() == FollowerState.Status.REJECTED)) {
                    System.out.println("the evaluator finished " + finalId + " (" + entry.get().status().id() + ")");
                    return entry.get().status() == FollowerState.Status.DONE;
                }
            }
            if (!announced) {
                System.out.println(finalId + " was announced by an earlier run and the evaluator has no result for it:"
                        + " evaluating it here");
                return false;
            }
            if (!follower.isAlive()) {
                System.out.println("the evaluator ended before " + finalId + " (see " + stateFile.resolveSibling("follow.log")
                        + "): evaluating it here");
                return false;
            }
            if (System.nanoTime() > deadline) {
                System.out.printf(Locale.ROOT, "the evaluator did not finish %s within %.1f minutes: evaluating it here%n",
                        finalId, demo.evaluatorWaitMinutes());
                return false;
            }
            if (!told) {
                System.out.println("waiting for the evaluator to finish " + finalId + " (it follows d2v.checkpoints)");
                told = true;
            }
            Thread.sleep(500);
        }
        return false;
    }

    /** The base configuration pointed at the demo broker, with the demo's batch sizes and model. */
    static D2vConfig demoKafkaConfig(D2vConfig base, DemoSettings demo, String bootstrap) {
        Map<Modality, Integer> fallback = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            fallback.put(m, base.batch().of(m));
        }
        Map<Modality, Integer> b = demo.batchSizes(fallback);
        return base.withBootstrap(bootstrap)
                .withBatch(new D2vConfig.Batch(b.get(Modality.IMAGE), b.get(Modality.AUDIO), b.get(Modality.TEXT)))
                .withModel(demo.model());
    }

    /**
     * Sends the train split of a dataset (name or folder) to d2v.raw.&lt;m&gt; up to target records in the topic:
     * records already there (an earlier run) are not sent again. Returns the records sent now.
     */
    private long ingest(D2vConfig c, DataContext ctx, Modality m, String dataset, int target) throws IOException {
        String topic = c.topicNames().raw(m);
        long have;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            have = admin.list(List.of(topic)).get(0).recordCount();
        }
        if (have >= target) {
            System.out.printf("%s: %s already holds %d records (target %d): not ingested again%n", m.id(), topic, have, target);
            return 0;
        }
        Path root = sourceRoot(dataset, ctx);
        String name = Datasets.names().contains(dataset) ? dataset : String.valueOf(root.getFileName());
        System.out.printf("%s: %d train records of %s -> %s%n", m.id(), target - have, name, topic);
        try (Stream<RawItem> items = Sources.folder(root, name)
                .filter(i -> i.split().map("train"::equals).orElse(false)).skip(have)) {
            Ingestor.Summary s = Ingestor.send(c, items, target - have, 0, "ingest " + m.id(),
                    skip -> System.err.println("skipped " + skip.source() + ": " + skip.reason()));
            if (!s.ok()) {
                throw new UserError(s.failedSends() + " " + m.id() + " records were not acknowledged by the broker");
            }
            return s.sent();
        }
    }

    /** A dataset's labeled folder (fetched first if needed), or the folder itself. */
    private static Path sourceRoot(String dataset, DataContext ctx) {
        if (Datasets.names().contains(dataset)) {
            var d = Datasets.byName(dataset);
            DataCommand.fetch(d, ctx);
            return d.root(ctx);
        }
        Path p = Path.of(dataset).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new UserError("demo datasets: '" + dataset + "' is neither a dataset (" + Datasets.names()
                    + ") nor a folder");
        }
        return p;
    }

    /** The ingested datasets as probe tasks, plus fashion-mnist for images when its Debian package is installed. */
    private static List<String> probeTasks(DemoSettings demo, DataContext ctx, List<Modality> modalities) {
        List<String> tasks = new ArrayList<>();
        for (Modality m : modalities) {
            String d = demo.datasets().get(m.id());
            tasks.add(Datasets.names().contains(d) ? d : Path.of(d).toAbsolutePath().normalize().toString());
        }
        if (modalities.contains(Modality.IMAGE) && !tasks.contains("fashion-mnist")
                && Datasets.names().contains(demo.datasets().get("image"))) {
            try {
                DataCommand.fetch(Datasets.byName("fashion-mnist"), ctx);
                tasks.add("fashion-mnist");
            } catch (RuntimeException notInstalled) {
                System.out.println("fashion-mnist not available (" + Errors.message(notInstalled) + "): not probed");
            }
        }
        return tasks;
    }

    /** How far the preprocessing jobs got through each raw topic (their consumer groups' committed offsets). */
    private static List<PreprocessProgress> preprocessProgress(D2vConfig c, List<Modality> modalities) {
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            return PreprocessProgress.read(admin.admin(), c.topics().prefix(), modalities);
        }
    }

    /** Committed minibatch records per batch topic. */
    private static Map<Modality, Long> batchCounts(D2vConfig c, List<Modality> modalities) {
        Map<Modality, Long> out = new EnumMap<>(Modality.class);
        Topics t = c.topicNames();
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            for (Modality m : modalities) {
                out.put(m, admin.committedCount(t.batch(m), Duration.ofSeconds(60)));
            }
        }
        return out;
    }

    /** Runs another d2v command in this JVM; a non-zero exit code stops the demo (its message is above). */
    private void subcommand(String... args) {
        System.out.println("$ ./d2v " + String.join(" ", args));
        int code = Main.commandLine().execute(args);
        if (code != 0 && !stopping.get()) {
            throw new UserError("'./d2v " + args[0] + "' failed with exit code " + code + " (see above)");
        }
    }

    private static void stage(int n, String what) {
        System.out.printf("%n== d2v demo %d/6: %s ==%n", n, what);
        System.out.flush();
    }

    private DemoSettings loadDemo() {
        Path file = demoConfig;
        if (file == null) {
            Path candidate = ConfigOptions.shipped("demo.yaml");
            file = Files.isRegularFile(candidate) ? candidate : null;
        }
        return file == null ? DemoSettings.defaults() : DemoSettings.load(file);
    }
}
