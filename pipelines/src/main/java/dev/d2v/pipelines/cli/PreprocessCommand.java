package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.progress.Progress;
import dev.d2v.pipelines.demo.PreprocessProgress;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessJobMain;
import dev.d2v.preprocess.job.PreprocessOptions;
import dev.d2v.preprocess.job.RetainedState;
import dev.d2v.preprocess.sample.TopicVocabulary;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v preprocess`: the Flink preprocessing jobs on a local MiniCluster against the configured brokers. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Runs the preprocessing jobs (d2v.raw.<m> -> transform -> batcher -> d2v.batch.<m>, exactly once;"
                + " bad records -> d2v.deadletter) on a local Flink MiniCluster until Ctrl-C, or with --bounded until the"
                + " raw topics' end offsets at start are processed.",
                "A cancelled run retains its last checkpoint (<cacheDir>/flink); the next run restores it, so no pending"
                        + " sample is lost (--fresh drops it).",
                "On a cluster the same jobs run from the shaded jar: see preprocess/TRANSFORMS.md."})
public final class PreprocessCommand implements java.util.concurrent.Callable<Integer> {

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--modality", paramLabel = "M", defaultValue = "all",
            description = "image, audio, text or all (one Flink job with a pipeline each; default: ${DEFAULT-VALUE})")
    String modality;

    @Option(names = {"--bounded", "--until-caught-up"},
            description = "Stop once the records in the raw topics at start are processed (the last batch may be partial)")
    boolean bounded;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "1",
            description = "Parallel transform and batcher tasks per modality; up to the raw topics' partitions (default: ${DEFAULT-VALUE})")
    int parallelism;

    @Option(names = "--epoch", paramLabel = "E", defaultValue = "0",
            description = "Augmentation epoch: crops and flips are seeded by (sample id, epoch) (default: ${DEFAULT-VALUE})")
    long epoch;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "0",
            description = "Override every modality's batch size (default: batch.* in the configuration)")
    int batchSize;

    @Option(names = "--partial-timeout-ms", paramLabel = "MS", defaultValue = "0",
            description = "Send a short batch, marked partial, this long after its first sample (default: 5000)")
    long partialTimeoutMs;

    @Option(names = "--checkpoint-interval-ms", paramLabel = "MS", defaultValue = "0",
            description = "Checkpoint (and batch visibility) interval (default: 10000)")
    long checkpointIntervalMs;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "Text vocabulary; built from d2v.raw.text and saved here when missing (default: <cacheDir>/vocab/text.vocab)")
    Path vocab;

    @Option(names = "--vocab-records", paramLabel = "N", defaultValue = "100000",
            description = "At most N raw text records to build a missing vocabulary from (default: ${DEFAULT-VALUE})")
    int vocabRecords;

    @Option(names = "--fresh",
            description = "Ignore and delete the state a cancelled run retained (its pending samples, fewer than one batch"
                    + " per batcher, are then lost) and start from the consumer group's committed offsets")
    boolean fresh;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where local runs retain their Flink checkpoints (default: <cacheDir>/flink)")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        D2vConfig c = cfg.load();
        List<Modality> modalities = PreprocessOptions.parseModalities(modality);
        String cluster;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
            cluster = admin.admin().describeCluster().clusterId().get(30, TimeUnit.SECONDS);
        }
        Path vocabFile = modalities.contains(Modality.TEXT) ? ensureVocabulary(c) : null;
        List<PreprocessJobConfig> jobs = options(modalities, vocabFile, bounded).jobs(c);
        for (PreprocessJobConfig j : jobs) {
            System.out.printf("%s: %s -> %s, batch %d, partial after %d ms, parallelism %d, config hash %016x%n",
                    j.modality().id(), j.topics().raw(j.modality()), j.topics().batch(j.modality()), j.batchSize(),
                    j.partialTimeoutMs(), j.parallelism(), j.transform().configHash());
        }
        System.out.flush();
        RetainedState state = RetainedState.of(stateDir != null ? stateDir : c.data().cachePath().resolve("flink"),
                c.topics().prefix(), modalities);
        Optional<RetainedState.Checkpoint> retained = retained(state, cluster);
        if (retained.isPresent() && !retained.get().bounded() && bounded) {
            System.err.println("d2v preprocess: " + retained.get().path() + " holds the state of a cancelled unbounded run,"
                    + " whose Kafka source has no end: resume it without --bounded, or drop it with --fresh (its pending"
                    + " samples, fewer than one batch per batcher, are then lost)");
            return 2;
        }
        if (retained.isPresent() && retained.get().bounded() && !bounded) {
            // its source splits stop where that run was to stop: finish it, then start the unbounded run fresh
            System.out.println("finishing the cancelled bounded run first");
            run(c, options(modalities, vocabFile, true).jobs(c), true, state, cluster, retained.get());
            retained = Optional.empty();
        }
        run(c, jobs, bounded, state, cluster, retained.orElse(null));
        if (bounded && retained.isPresent() && backlog(c, jobs) > 0) {
            // the restored source stopped at the end offsets of the cancelled run's start; newer records remain
            System.out.println("records arrived after the restored run's start: one more bounded run");
            run(c, jobs, true, state, cluster, null);
        }
        return 0;
    }

    private PreprocessOptions options(List<Modality> modalities, Path vocabFile, boolean boundedRun) {
        return new PreprocessOptions(modalities, vocabFile, parallelism, epoch, boundedRun, batchSize, partialTimeoutMs,
                checkpointIntervalMs);
    }

    /** The checkpoint to restore, if any: none after --fresh, none retained for another Kafka cluster. */
    private Optional<RetainedState.Checkpoint> retained(RetainedState state, String cluster) {
        if (fresh) {
            state.delete();
            System.out.println("--fresh: retained preprocessing state in " + state.dir() + " deleted");
            return Optional.empty();
        }
        Optional<RetainedState.Checkpoint> retained = state.newest();
        if (retained.isPresent() && !retained.get().clusterId().isEmpty() && !retained.get().clusterId().equals(cluster)) {
            // its offsets and transactions belong to another broker (e.g. a demo's): meaningless here
            System.out.println("retained preprocessing state in " + state.dir() + " is of Kafka cluster "
                    + retained.get().clusterId() + ", not " + cluster + ": deleted");
            state.delete();
            return Optional.empty();
        }
        return retained;
    }

    /**
     * One local Flink job over {@code jobs}, restored from {@code restore} when given, with its checkpoints retained
     * in {@code state} on cancellation; a run that finishes deletes them (nothing of it is left to restore).
     * A restored bounded run is stopped with a drain (stop-with-savepoint, end of event time: the batchers flush) once
     * its groups committed the end offsets the cancelled run started with: a restored bounded Kafka source reads to
     * its stopping offsets but never signals the end (its enumerator, restored with every partition assigned, never
     * sees a partition change, so it never sends NoMoreSplits; flink-connector-kafka 5.0).
     */
    private static void run(D2vConfig c, List<PreprocessJobConfig> jobs, boolean boundedRun, RetainedState state,
                            String cluster, RetainedState.Checkpoint restore) throws Exception {
        Path restorePath = restore == null ? null : restore.path();
        if (restore != null) {
            System.out.println("restoring preprocessing state from " + restorePath);
            state.pruneExcept(restorePath);
        }
        // a restored run keeps the cancelled run's ends: its source splits stop there, and so would a later restore's
        Map<TopicPartition, Long> ends = restore != null ? restore.ends() : boundedRun ? endOffsets(c, jobs) : Map.of();
        state.markRun(boundedRun, cluster, ends);
        StreamExecutionEnvironment env = PreprocessJob.environment(jobs, state, restorePath);
        jobs.forEach(j -> PreprocessJob.buildKafka(env, j));
        long total = boundedRun ? backlog(c, jobs) : -1; // before the start: the job commits offsets as it goes
        List<Modality> modalities = jobs.stream().map(PreprocessJobConfig::modality).toList();
        JobClient client = env.executeAsync(PreprocessJobMain.jobName(modalities));
        Thread stop = new Thread(() -> cancel(client), "d2v-preprocess-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        boolean drain = restore != null && boundedRun;
        CompletableFuture<String> stopping = null;
        long t0 = System.nanoTime();
        Map<String, Object> acc = Map.of();
        try (Progress progress = new Progress("preprocess", total)) {
            // the result future, not getJobStatus(): a finished local job shuts its MiniCluster down at once
            CompletableFuture<JobExecutionResult> done = client.getJobExecutionResult();
            while (!done.isDone()) {
                acc = accumulators(client, acc);
                progress.set(count(acc, "samples") + count(acc, "rejected"), summary(acc));
                boolean stopFailed = stopping != null && stopping.isCompletedExceptionally();
                if (drain && (stopping == null || stopFailed) && caughtUp(c, jobs, ends)) {
                    // refused while the tasks are still starting: tried again on the next tick
                    stopping = client.stopWithSavepoint(true,
                            state.dir().resolve("drain").toAbsolutePath().toUri().toString(), SavepointFormatType.CANONICAL);
                }
                try {
                    done.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException stillRunning) {
                    // next progress update
                }
            }
            acc = done.get().getAllAccumulatorResults();
            progress.set(count(acc, "samples") + count(acc, "rejected"), summary(acc));
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stop);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running
            }
        }
        state.delete(); // finished: Flink discarded its checkpoints; a restored bounded source would stop too early
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "preprocessed %d samples into %d batches in %.1f s; %d records dead-lettered%n",
                count(acc, "samples"), count(acc, "batches"), s, count(acc, "rejected"));
    }

    /** The configured vocabulary file, built from the raw text topic first when it does not exist. */
    private Path ensureVocabulary(D2vConfig c) {
        Path file = vocab != null ? vocab : c.data().cachePath().resolve("vocab").resolve("text.vocab");
        if (Files.isRegularFile(file)) {
            return file;
        }
        String topic = c.topicNames().raw(Modality.TEXT);
        System.out.println("text vocabulary " + file + " not found: building it from " + topic + " ...");
        Vocabulary v = TopicVocabulary.build(c.kafka().clientProps(), topic, vocabRecords, TextTransformConfig.defaults());
        v.save(file);
        System.out.printf("text vocabulary: %d words + %d buckets, content hash %016x -> %s%n", v.wordCount(),
                v.buckets(), v.contentHash(), file);
        return file;
    }

    /** The raw topics' end offsets now, every partition of every job. */
    private static Map<TopicPartition, Long> endOffsets(D2vConfig c, List<PreprocessJobConfig> jobs) {
        try (TopicAdmin topicAdmin = new TopicAdmin(c.kafka())) {
            Map<TopicPartition, Long> out = new HashMap<>();
            for (PreprocessJobConfig j : jobs) {
                out.putAll(PreprocessProgress.rawEnds(topicAdmin.admin(), j.topics().prefix(), List.of(j.modality())));
            }
            return out;
        }
    }

    /** Every job's group has committed at least {@code ends} on its raw topic (a checkpoint past them completed). */
    private static boolean caughtUp(D2vConfig c, List<PreprocessJobConfig> jobs, Map<TopicPartition, Long> ends) {
        try (TopicAdmin topicAdmin = new TopicAdmin(c.kafka())) {
            for (PreprocessJobConfig j : jobs) {
                String topic = j.topics().raw(j.modality());
                Map<TopicPartition, OffsetAndMetadata> committed =
                        topicAdmin.admin().listConsumerGroupOffsets(j.groupId()).partitionsToOffsetAndMetadata().get();
                for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
                    OffsetAndMetadata om = committed.get(e.getKey());
                    if (e.getKey().topic().equals(topic) && e.getValue() > 0 && (om == null || om.offset() < e.getValue())) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) { // the broker is busy: ask again on the next progress tick
            return false;
        }
    }

    /** Records waiting in the raw topics for these jobs: end offset less the group's committed offset (else the start). */
    private static long backlog(D2vConfig c, List<PreprocessJobConfig> jobs) {
        try (TopicAdmin topicAdmin = new TopicAdmin(c.kafka())) {
            long total = 0;
            for (PreprocessJobConfig j : jobs) {
                PreprocessProgress p = PreprocessProgress.read(topicAdmin.admin(), j.modality(),
                        j.topics().raw(j.modality()), j.groupId());
                total += p.records() - p.preprocessed();
            }
            return total;
        } catch (Exception e) { // only the progress bar's total: unknown is fine
            return -1;
        }
    }

    private static Map<String, Object> accumulators(JobClient client, Map<String, Object> last) {
        try {
            return client.getAccumulators().get(5, TimeUnit.SECONDS);
        } catch (Exception e) { // the job is starting or finishing: keep the last values
            return last;
        }
    }

    private static long count(Map<String, Object> acc, String name) {
        return acc.get(name) instanceof Number n ? n.longValue() : 0;
    }

    private static String summary(Map<String, Object> acc) {
        return "batches " + count(acc, "batches") + ", dead letters " + count(acc, "rejected");
    }

    private static void cancel(JobClient client) {
        try {
            if (!client.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
                System.err.println("d2v preprocess: stopping the jobs (the last checkpoint is retained: the next run restores it)");
                client.cancel().get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // the MiniCluster may already be shutting down with the JVM
        }
    }
}
