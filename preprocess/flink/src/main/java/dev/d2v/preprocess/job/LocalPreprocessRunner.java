package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.progress.Progress;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.sample.TopicVocabulary;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.PrintStream;
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
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The preprocessing jobs on a local Flink MiniCluster against the configured brokers, as {@code ./d2v preprocess} and
 * the demo run them: topics ensured, the text vocabulary built when missing, the state a cancelled run retained
 * restored (so no pending sample is lost) or dropped, progress on the terminal, and for a bounded run the raw topics'
 * records at start processed. On a cluster the same jobs run from the shaded jar ({@link PreprocessJobMain}).
 */
public final class LocalPreprocessRunner {

    private final PipelineConfig config;
    private final PrintStream out;

    /** @param out where the job lines, restore decisions and the summary are printed */
    public LocalPreprocessRunner(PipelineConfig config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    /**
     * Runs the jobs until they finish (bounded) or the JVM is stopped (Ctrl-C: the last checkpoint is retained).
     *
     * @throws IllegalArgumentException when the retained state cannot serve this run (a cancelled unbounded run's
     *                                  state and a bounded run), or a setting is invalid
     */
    public void run(LocalPreprocessSettings s) throws Exception {
        String cluster;
        try (TopicAdmin admin = new TopicAdmin(config.kafka())) {
            admin.ensureTopics(config.topics());
            cluster = admin.admin().describeCluster().clusterId().get(30, TimeUnit.SECONDS);
        }
        Path vocabFile = s.modalities().contains(Modality.TEXT) ? ensureVocabulary(s) : null;
        List<PreprocessJobConfig> jobs = s.options(vocabFile, s.bounded()).jobs(config);
        for (PreprocessJobConfig j : jobs) {
            out.printf("%s: %s -> %s, batch %d, partial after %d ms, parallelism %d, config hash %016x%n",
                    j.modality().id(), j.topics().raw(j.modality()), j.topics().batch(j.modality()), j.batchSize(),
                    j.partialTimeoutMs(), j.parallelism(), j.transform().configHash());
        }
        out.flush();
        RetainedState state = RetainedState.of(s.stateDir() != null ? s.stateDir()
                : config.data().cachePath().resolve("flink"), config.topics().prefix(), s.modalities());
        Optional<RetainedState.Checkpoint> retained = retained(state, cluster, s.fresh());
        if (retained.isPresent() && !retained.get().bounded() && s.bounded()) {
            throw new IllegalArgumentException(retained.get().path() + " holds the state of a cancelled unbounded run,"
                    + " whose Kafka source has no end: resume it without --bounded, or drop it with --fresh (its pending"
                    + " samples, fewer than one batch per batcher, are then lost)");
        }
        if (retained.isPresent() && retained.get().bounded() && !s.bounded()) {
            // its source splits stop where that run was to stop: finish it, then start the unbounded run fresh
            out.println("finishing the cancelled bounded run first");
            runJob(s.options(vocabFile, true).jobs(config), true, state, cluster, retained.get());
            retained = Optional.empty();
        }
        runJob(jobs, s.bounded(), state, cluster, retained.orElse(null));
        if (s.bounded() && retained.isPresent() && backlog(jobs) > 0) {
            // the restored source stopped at the end offsets of the cancelled run's start; newer records remain
            out.println("records arrived after the restored run's start: one more bounded run");
            runJob(jobs, true, state, cluster, null);
        }
    }

    /** The checkpoint to restore, if any: none when fresh, none retained for another Kafka cluster. */
    private Optional<RetainedState.Checkpoint> retained(RetainedState state, String cluster, boolean fresh) {
        if (fresh) {
            state.delete();
            out.println("--fresh: retained preprocessing state in " + state.dir() + " deleted");
            return Optional.empty();
        }
        Optional<RetainedState.Checkpoint> retained = state.newest();
        if (retained.isPresent() && !retained.get().clusterId().isEmpty() && !retained.get().clusterId().equals(cluster)) {
            // its offsets and transactions belong to another broker (e.g. a demo's): meaningless here
            out.println("retained preprocessing state in " + state.dir() + " is of Kafka cluster "
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
    private void runJob(List<PreprocessJobConfig> jobs, boolean boundedRun, RetainedState state, String cluster,
                        RetainedState.Checkpoint restore) throws Exception {
        Path restorePath = restore == null ? null : restore.path();
        if (restore != null) {
            out.println("restoring preprocessing state from " + restorePath);
            state.pruneExcept(restorePath);
        }
        // a restored run keeps the cancelled run's ends: its source splits stop there, and so would a later restore's
        Map<TopicPartition, Long> ends = restore != null ? restore.ends() : boundedRun ? endOffsets(jobs) : Map.of();
        state.markRun(boundedRun, cluster, ends);
        StreamExecutionEnvironment env = PreprocessJob.environment(jobs, state, restorePath);
        jobs.forEach(j -> PreprocessJob.buildKafka(env, j));
        long total = boundedRun ? backlog(jobs) : -1; // before the start: the job commits offsets as it goes
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
                if (drain && (stopping == null || stopFailed) && caughtUp(jobs, ends)) {
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
        out.printf(Locale.ROOT, "preprocessed %d samples into %d batches in %.1f s; %d records dead-lettered%n",
                count(acc, "samples"), count(acc, "batches"), s, count(acc, "rejected"));
    }

    /** The vocabulary file, built from the raw text topic first when it does not exist. */
    private Path ensureVocabulary(LocalPreprocessSettings s) {
        Path file = s.vocabulary() != null ? s.vocabulary()
                : config.data().cachePath().resolve("vocab").resolve("text.vocab");
        if (Files.isRegularFile(file)) {
            return file;
        }
        String topic = config.topicNames().raw(Modality.TEXT);
        out.println("text vocabulary " + file + " not found: building it from " + topic + " ...");
        Vocabulary v = TopicVocabulary.build(config.kafka().clientProps(), topic, s.vocabRecords(),
                Transforms.of(config).text());
        v.save(file);
        out.printf("text vocabulary: %d words + %d buckets, content hash %016x -> %s%n", v.wordCount(),
                v.buckets(), v.contentHash(), file);
        return file;
    }

    /** The raw topics' end offsets now, every partition of every job. */
    private Map<TopicPartition, Long> endOffsets(List<PreprocessJobConfig> jobs) {
        try (TopicAdmin topicAdmin = new TopicAdmin(config.kafka())) {
            Map<TopicPartition, Long> out = new HashMap<>();
            for (PreprocessJobConfig j : jobs) {
                out.putAll(PreprocessProgress.rawEnds(topicAdmin.admin(), j.topics().prefix(), List.of(j.modality())));
            }
            return out;
        }
    }

    /** Every job's group has committed at least {@code ends} on its raw topic (a checkpoint past them completed). */
    private boolean caughtUp(List<PreprocessJobConfig> jobs, Map<TopicPartition, Long> ends) {
        try (TopicAdmin topicAdmin = new TopicAdmin(config.kafka())) {
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
    private long backlog(List<PreprocessJobConfig> jobs) {
        try (TopicAdmin topicAdmin = new TopicAdmin(config.kafka())) {
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
