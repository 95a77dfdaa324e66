package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.bench.BenchResult;
import dev.d2v.pipelines.bench.PreprocessBench;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessOptions;
import dev.d2v.preprocess.job.RetainedState;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.Arrays;
import java.util.concurrent.Callable;

class PreprocessCommandTest {

    @TempDir
    Path dir;

    @Test
    void helpNamesTheOptions() {
        assertThat(Main.commandLine().execute("preprocess", "--help")).isZero();
        assertThat(Main.commandLine().getSubcommands().get("preprocess").getUsageMessage())
                .contains("--modality").contains("--bounded").contains("--vocab").contains("--parallelism")
                .contains("--fresh").contains("--state-dir");
        assertThat(Main.commandLine().getSubcommands().get("bench").getSubcommands().get("preprocess").getUsageMessage())
                .contains("--no-flink").contains("--scale");
    }

    @Test
    void boundedTextRunBatchesTheRawTopicWithAVocabularyBuiltFromIt() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "cli" + UUID.randomUUID().toString().substring(0, 8);
        Path cache = dir.resolve("cache");
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\ndata:\n  cacheDir: " + cache + "\nbatch:\n  text: 4\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 6; i++) {
                p.send(new ProducerRecord<>(topics.raw(Modality.TEXT), null, ("t" + i).getBytes(StandardCharsets.UTF_8),
                        ("a line of text number " + i).getBytes(StandardCharsets.UTF_8),
                        new RawHeaders(Modality.TEXT.defaultContentType(), "test", Optional.empty(), Optional.empty(), 0)
                                .toKafka()));
            }
        }

        int code = Main.run("preprocess", "--config", cfg.toString(), "--modality", "text", "--bounded",
                "--checkpoint-interval-ms", "200");

        assertThat(code).isZero();
        assertThat(cache.resolve("vocab").resolve("text.vocab")).isRegularFile();
        List<Minibatch> batches = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.batch(Modality.TEXT), 2, true,
                Duration.ofSeconds(30))) {
            batches.add(MinibatchCodec.inline().decode(r.value()));
        }
        assertThat(batches).extracting(Minibatch::batchSize).containsExactlyInAnyOrder(4, 2);
        assertThat(batches.stream().flatMap(b -> b.sampleIds().stream()))
                .containsExactlyInAnyOrder("t0", "t1", "t2", "t3", "t4", "t5");
    }

    @Test
    void aBoundedRunRestoresTheCancelledRunsCheckpointAndLosesNoPendingSample() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "rst" + UUID.randomUUID().toString().substring(0, 8);
        Path cache = dir.resolve("cache");
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\ndata:\n  cacheDir: " + cache + "\nbatch:\n  text: 4\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        String cluster;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
            cluster = admin.admin().describeCluster().clusterId().get();
        }
        Topics topics = c.topicNames();
        List<String> ids = new ArrayList<>();
        produceText(bootstrap, topics, 0, 11, ids); // 2 x 4 + 3: three samples pending when the run is cancelled
        Path vocab = cache.resolve("vocab").resolve("text.vocab"); // where the CLI looks for it
        TextTransformConfig text = TextTransformConfig.defaults();
        try (TextAnalysis analysis = new TextAnalysis(text.analyzer())) {
            Vocabulary.build(List.of("a line of text number 1"), analysis, text).save(vocab);
        }

        // a cancelled bounded run, as the CLI would have left it: a source that stops at the end offsets of its start
        // but, unbounded, never finishes, so that the test cancels it with its checkpoint taken after the 11th record
        PreprocessJobConfig job = new PreprocessOptions(List.of(Modality.TEXT), vocab, 1, 0, true, 0, 600_000, 200)
                .jobs(c).get(0);
        RetainedState state = RetainedState.of(cache.resolve("flink"), prefix, List.of(Modality.TEXT));
        state.markRun(true, cluster, Map.of(new TopicPartition(topics.raw(Modality.TEXT), 0), 11L));
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(job), state, null);
        PreprocessJob.build(env, PreprocessJob.kafkaSourceBuilder(job).setUnbounded(OffsetsInitializer.latest()).build(),
                PreprocessJob.batchSink(job), PreprocessJob.deadLetterSink(job), job);
        JobClient cancelled = env.executeAsync("cancelled bounded run");
        try {
            awaitCommitted(c, job.groupId(), topics.raw(Modality.TEXT), 11);
        } finally {
            cancelled.cancel().get(30, TimeUnit.SECONDS);
            try {
                cancelled.getJobExecutionResult().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException expected) {
                // a cancelled job has no result
            }
        }
        Path retained = state.newest().orElseThrow(() -> new AssertionError("no retained checkpoint")).path();
        produceText(bootstrap, topics, 11, 12, ids); // past the restored source's stopping offset

        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("preprocess", "--config", cfg.toString(), "--modality", "text", "--bounded",
                    "--checkpoint-interval-ms", "200", "--partial-timeout-ms", "600000");
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        original.print(printed);

        assertThat(code).isZero();
        assertThat(printed).contains("restoring preprocessing state from " + retained)
                .contains("preprocessed 0 samples into 1 batches") // the restored run: only its three pending samples
                .contains("one more bounded run");
        List<Minibatch> batches = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.batch(Modality.TEXT), 4, true,
                Duration.ofSeconds(30))) {
            batches.add(MinibatchCodec.inline().decode(r.value()));
        }
        // the restored three flushed at the end of the restored run, the newer sample by the run after it
        assertThat(batches).extracting(Minibatch::batchSize).containsExactlyInAnyOrder(4, 4, 3, 1);
        List<String> batched = batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
        assertThat(batched).as("read_committed: every sample exactly once").containsExactlyInAnyOrderElementsOf(ids);
        assertThat(batched).doesNotHaveDuplicates();
        assertThat(state.dir()).as("finished runs leave nothing to restore").doesNotExist();
    }

    @Test
    void unboundedStateIsNotRunBoundedAndFreshOrAnotherClusterDropsIt() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "mis" + UUID.randomUUID().toString().substring(0, 8);
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\ndata:\n  cacheDir: " + dir.resolve("cache") + "\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        String cluster;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
            cluster = admin.admin().describeCluster().clusterId().get();
        }
        RetainedState state = RetainedState.of(dir.resolve("cache").resolve("flink"), prefix, List.of(Modality.IMAGE));
        String[] bounded = {"preprocess", "--config", cfg.toString(), "--modality", "image", "--bounded",
                "--checkpoint-interval-ms", "200"};

        retainFake(state, false, cluster);
        assertThat(Main.run(bounded)).as("an unbounded run's source has no end").isEqualTo(2);
        assertThat(state.newest()).as("kept for an unbounded run").isPresent();

        String fresh = stdout(() -> Main.run(append(bounded, "--fresh")));
        assertThat(fresh).contains("--fresh: retained preprocessing state in " + state.dir() + " deleted")
                .doesNotContain("restoring");
        assertThat(state.dir()).doesNotExist();

        retainFake(state, true, "another-cluster");
        String other = stdout(() -> Main.run(bounded));
        assertThat(other).contains("is of Kafka cluster another-cluster, not " + cluster + ": deleted")
                .doesNotContain("restoring");
        assertThat(state.dir()).doesNotExist();
    }

    /** A retained checkpoint folder as a cancelled run leaves it (its content is never read here). */
    private static void retainFake(RetainedState state, boolean bounded, String cluster) throws Exception {
        Path chk = state.checkpoints().resolve("0123456789abcdef0123456789abcdef").resolve("chk-3");
        Files.createDirectories(chk);
        Files.writeString(chk.resolve("_metadata"), "not restored by this test");
        state.markRun(bounded, cluster, Map.of());
    }

    private static String[] append(String[] args, String more) {
        String[] out = Arrays.copyOf(args, args.length + 1);
        out[args.length] = more;
        return out;
    }

    private static String stdout(Callable<Integer> run) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(run.call()).isZero();
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        original.print(printed);
        return printed;
    }

    private static void produceText(String bootstrap, Topics topics, int from, int to, List<String> ids) {
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            for (int i = from; i < to; i++) {
                ids.add("t" + i);
                p.send(new ProducerRecord<>(topics.raw(Modality.TEXT), null, ("t" + i).getBytes(StandardCharsets.UTF_8),
                        ("a line of text number " + i).getBytes(StandardCharsets.UTF_8),
                        new RawHeaders(Modality.TEXT.defaultContentType(), "test", Optional.empty(), Optional.empty(), 0)
                                .toKafka()));
            }
            p.flush();
        }
    }

    private static void awaitCommitted(PipelineConfig c, String group, String topic, long total) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long committed = 0;
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            while (System.nanoTime() < deadline) {
                committed = admin.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                        .entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                        .mapToLong(e -> e.getValue().offset()).sum();
                if (committed >= total) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("group " + group + " committed " + committed + " of " + total + " offsets");
    }

    @Test
    void benchPrintsTheStableNamesAsJsonLines() throws Exception {
        List<BenchResult> results = PreprocessBench.run(new PreprocessBench.Settings(
                Map.of(Modality.IMAGE, 20, Modality.AUDIO, 4, Modality.TEXT, 40), false, null, dir, 1), r -> { });
        assertThat(results).extracting(BenchResult::name).containsExactly("records_per_s_per_core",
                "records_per_s_per_core", "audio_realtime_factor", "records_per_s_per_core", "text_tokens_per_s");
        assertThat(results).allSatisfy(r -> assertThat(r.value()).isPositive());
        assertThat(results.get(0).json()).startsWith("{\"name\":\"records_per_s_per_core\",\"value\":")
                .contains("\"unit\":\"records/s\",\"modality\":\"image\",\"stage\":\"transform\",\"records\":20");
    }
}
