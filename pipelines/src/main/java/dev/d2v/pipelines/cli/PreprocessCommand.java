package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.progress.Progress;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessJobMain;
import dev.d2v.preprocess.job.PreprocessOptions;
import dev.d2v.preprocess.sample.TopicVocabulary;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v preprocess`: the Flink preprocessing jobs on a local MiniCluster against the configured brokers. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Runs the preprocessing jobs (d2v.raw.<m> -> transform -> batcher -> d2v.batch.<m>, exactly once;"
                + " bad records -> d2v.deadletter) on a local Flink MiniCluster until Ctrl-C, or with --bounded until the"
                + " raw topics' end offsets at start are processed.",
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

    @Override
    public Integer call() throws Exception {
        D2vConfig c = cfg.load();
        List<Modality> modalities = PreprocessOptions.parseModalities(modality);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Path vocabFile = modalities.contains(Modality.TEXT) ? ensureVocabulary(c) : null;
        PreprocessOptions options = new PreprocessOptions(modalities, vocabFile, parallelism, epoch, bounded, batchSize,
                partialTimeoutMs, checkpointIntervalMs);
        List<PreprocessJobConfig> jobs = options.jobs(c);
        for (PreprocessJobConfig j : jobs) {
            System.out.printf("%s: %s -> %s, batch %d, partial after %d ms, parallelism %d, config hash %016x%n",
                    j.modality().id(), j.topics().raw(j.modality()), j.topics().batch(j.modality()), j.batchSize(),
                    j.partialTimeoutMs(), j.parallelism(), j.transform().configHash());
        }
        System.out.flush();
        StreamExecutionEnvironment env = PreprocessJob.environment(jobs);
        jobs.forEach(j -> PreprocessJob.buildKafka(env, j));
        long total = bounded ? backlog(c, jobs) : -1; // before the start: the job commits offsets as it goes
        JobClient client = env.executeAsync(PreprocessJobMain.jobName(modalities));
        Thread stop = new Thread(() -> cancel(client), "d2v-preprocess-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        long t0 = System.nanoTime();
        Map<String, Object> acc = Map.of();
        try (Progress progress = new Progress("preprocess", total)) {
            // the result future, not getJobStatus(): a finished local job shuts its MiniCluster down at once
            CompletableFuture<JobExecutionResult> done = client.getJobExecutionResult();
            while (!done.isDone()) {
                acc = accumulators(client, acc);
                progress.set(count(acc, "samples") + count(acc, "rejected"), summary(acc));
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
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "preprocessed %d samples into %d batches in %.1f s; %d records dead-lettered%n",
                count(acc, "samples"), count(acc, "batches"), s, count(acc, "rejected"));
        return 0;
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

    /** Records waiting in the raw topics for these jobs: end offset less the group's committed offset (else the start). */
    private static long backlog(D2vConfig c, List<PreprocessJobConfig> jobs) {
        try (TopicAdmin topicAdmin = new TopicAdmin(c.kafka())) {
            Admin admin = topicAdmin.admin();
            long total = 0;
            for (PreprocessJobConfig j : jobs) {
                String topic = j.topics().raw(j.modality());
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
                for (TopicPartitionInfo p : admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()) {
                    latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
                    earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
                }
                var end = admin.listOffsets(latest).all().get();
                var start = admin.listOffsets(earliest).all().get();
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(j.groupId()).partitionsToOffsetAndMetadata().get();
                for (TopicPartition tp : latest.keySet()) {
                    OffsetAndMetadata om = committed.get(tp);
                    long from = Math.max(start.get(tp).offset(), om == null ? 0 : om.offset());
                    total += Math.max(0, end.get(tp).offset() - from);
                }
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
                System.err.println("d2v preprocess: stopping the jobs (uncommitted batches are aborted and redone next run)");
                client.cancel().get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // the MiniCluster may already be shutting down with the JVM
        }
    }
}
