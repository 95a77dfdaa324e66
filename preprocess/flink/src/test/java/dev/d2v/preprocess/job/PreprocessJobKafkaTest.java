package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.SampleTransformerTest;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text job on a Flink MiniCluster against the project's local Kafka broker, end to end. */
class PreprocessJobKafkaTest {

    private static final Duration READ = Duration.ofSeconds(60);
    private static final MinibatchCodec CODEC = MinibatchCodec.inline();

    @TempDir
    Path tmp;

    @Test
    void everyGoodSampleLandsInExactlyOneBatchAndBadRecordsAreDeadLettered() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        List<String> good = new ArrayList<>();
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 10; i++) {
                good.add("s" + i);
                p.send(raw(topics, "s" + i, "the quick brown fox number " + i, rawHeaders()));
            }
            p.send(raw(topics, "bad-utf8", new byte[] {'a', (byte) 0xff, (byte) 0xfe}, rawHeaders()));
            p.send(raw(topics, "bad-empty", new byte[0], rawHeaders()));
            p.send(raw(topics, "bad-headers", "fine text, no headers".getBytes(StandardCharsets.UTF_8), new RecordHeaders()));
            // a key of 70,000 bytes passed the transform and failed the batcher, and with it the job, on every restart
            p.send(raw(topics, LONG_KEY, "a fine text with a key too long".getBytes(StandardCharsets.UTF_8), rawHeaders()));
            p.flush();
        }
        // one batcher, batches of 4, a timeout far beyond the test: only the end of input makes a partial batch
        PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 600_000).withParallelism(1);
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.buildKafka(env, c);
        env.execute("text preprocess test");

        List<Minibatch> batches = readBatches(bootstrap, topics, 3);
        assertThat(batches).extracting(Minibatch::batchSize).containsExactly(2, 4, 4);
        assertThat(batches).extracting(Minibatch::partial).containsExactly(true, false, false);
        assertThat(batches.stream().flatMap(b -> b.sampleIds().stream()).toList()).containsExactlyInAnyOrderElementsOf(good);
        Minibatch b = batches.get(1);
        assertThat(b.modality()).isEqualTo(Modality.TEXT);
        assertThat(b.dtype()).isEqualTo(DType.INT32);
        assertThat(b.shape()).containsExactly(4, 8);
        assertThat(b.preprocessConfigHash()).isEqualTo(c.transform().configHash());
        // [CLS] the quick brown fox number i [SEP]: 6 tokens + 2 = 8 valid
        assertThat(b.validLengths()).containsOnly(8);

        Map<String, DeadLetter> dead = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 4, true, READ)) {
            DeadLetter d = DeadLetter.fromConsumerRecord(r);
            dead.put(new String(d.key(), StandardCharsets.UTF_8), d);
        }
        assertThat(dead).containsOnlyKeys("bad-utf8", "bad-empty", "bad-headers", LONG_KEY);
        assertThat(dead.get(LONG_KEY).stage()).isEqualTo("preprocess.text.invalid-key");
        assertThat(dead.get("bad-utf8").stage()).isEqualTo("preprocess.text.invalid-utf8");
        assertThat(dead.get("bad-utf8").errorClass()).endsWith("BadRecordException");
        assertThat(dead.get("bad-utf8").errorMessage()).contains("not valid UTF-8");
        assertThat(dead.get("bad-utf8").value()).containsExactly('a', (byte) 0xff, (byte) 0xfe);
        assertThat(dead.get("bad-utf8").topic()).isEqualTo(topics.raw(Modality.TEXT));
        assertThat(dead.get("bad-empty").stage()).isEqualTo("preprocess.text.empty");
        assertThat(dead.get("bad-headers").stage()).isEqualTo("preprocess.text.headers");
        assertThat(dead.get("bad-headers").errorMessage()).contains("d2v.v");
    }

    private static final String LONG_KEY = "k".repeat(70_000);

    /** Fails the job once, after a few records, while checkpoints and transactions are under way. */
    static final AtomicBoolean FAILED = new AtomicBoolean();

    static final class FailOnce implements MapFunction<RawRecord, RawRecord> {
        private int seen;

        @Override
        public RawRecord map(RawRecord r) throws Exception {
            Thread.sleep(15); // slow enough that several checkpoints complete before the failure
            if (++seen == 12 && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("injected task failure after " + seen + " records");
            }
            return r;
        }
    }

    @Test
    void aTaskFailureMidStreamGivesNoDuplicateAndNoMissingSample() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        List<String> good = new ArrayList<>();
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 48; i++) {
                good.add("r" + i);
                p.send(raw(topics, "r" + i, "sample text " + i, rawHeaders()));
            }
            p.flush();
        }
        FAILED.set(false);
        // two batchers, short partial timeout: full and partial batches both in flight when the task fails
        PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 300).withParallelism(2)
                .withCheckpointIntervalMs(100).withRestartAttempts(3);
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.attach(env.fromSource(PreprocessJob.kafkaSource(c), WatermarkStrategy.noWatermarks(), "raw")
                        .map(new FailOnce()).returns(RawRecord.class),
                PreprocessJob.batchSink(c), PreprocessJob.deadLetterSink(c), c);
        env.execute("text preprocess failure test");

        assertThat(FAILED).as("the failure was injected").isTrue();
        List<Minibatch> batches = readBatches(bootstrap, topics, 12);
        List<String> ids = batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
        assertThat(ids).as("read_committed: every sample exactly once").containsExactlyInAnyOrderElementsOf(good);
        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void aShortBatchIsSentMarkedPartialWhenItsTimeoutFiresWhileTheJobRuns() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 5; i++) {
                p.send(raw(topics, "p" + i, "sample text " + i, rawHeaders()));
            }
        }
        // unbounded: only the processing-time timer can send the fifth sample
        PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 500).withParallelism(1).withBounded(false);
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.buildKafka(env, c);
        JobClient client = env.executeAsync("text preprocess timeout test");
        try {
            List<Minibatch> batches = readBatches(bootstrap, topics, 2);
            assertThat(batches).extracting(Minibatch::batchSize).containsExactly(1, 4);
            assertThat(batches).extracting(Minibatch::partial).containsExactly(true, false);
            assertThat(client.getJobStatus().get().isGloballyTerminalState()).as("still running").isFalse();
        } finally {
            client.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void threeModalitiesRunAsOneJobEachIntoItsOwnBatchTopic() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>(topics.raw(Modality.IMAGE), null, ("i" + i).getBytes(StandardCharsets.UTF_8),
                        SampleTransformerTest.png(30 + i, 28), headers(Modality.IMAGE, String.valueOf(i))));
            }
            for (int i = 0; i < 2; i++) {
                p.send(new ProducerRecord<>(topics.raw(Modality.AUDIO), null, ("a" + i).getBytes(StandardCharsets.UTF_8),
                        SampleTransformerTest.wav(8000, 4000), headers(Modality.AUDIO, null)));
            }
            byte[] truncated = Arrays.copyOf(SampleTransformerTest.wav(16000, 1000), 30);
            p.send(new ProducerRecord<>(topics.raw(Modality.AUDIO), null, "a-bad".getBytes(StandardCharsets.UTF_8),
                    truncated, headers(Modality.AUDIO, null)));
            // 1 Hz: resampled whole to 16 kHz this was 3.2 billion samples, an OutOfMemoryError and a crash loop
            p.send(new ProducerRecord<>(topics.raw(Modality.AUDIO), null, "a-1hz".getBytes(StandardCharsets.UTF_8),
                    SampleTransformerTest.wav(1, 200_000), headers(Modality.AUDIO, null)));
            p.send(raw(topics, "t0", "the quick brown fox", rawHeaders()));
        }
        PreprocessJobConfig text = job(topics, bootstrap).withBatch(2, 600_000);
        PipelineConfig cfg = PipelineConfig.defaults().withBootstrap(bootstrap);
        PreprocessJobConfig image = PreprocessJobConfig.from(cfg, TransformSpec.image(ImageTransformConfig.defaults(), 0))
                .withTopicPrefix(topics.prefix()).withIds(topics.prefix() + "-img", topics.prefix() + "-img")
                .withBounded(true).withCheckpointIntervalMs(200).withRestartAttempts(0).withBatch(2, 600_000);
        PreprocessJobConfig audio = PreprocessJobConfig.from(cfg,
                        TransformSpec.audio(AudioTransformConfig.defaults().withFrames(40), 0))
                .withTopicPrefix(topics.prefix()).withIds(topics.prefix() + "-aud", topics.prefix() + "-aud")
                .withBounded(true).withCheckpointIntervalMs(200).withRestartAttempts(0).withBatch(2, 600_000);
        List<PreprocessJobConfig> jobs = List.of(image, audio, text);
        StreamExecutionEnvironment env = PreprocessJob.environment(jobs);
        jobs.forEach(j -> PreprocessJob.buildKafka(env, j));
        env.execute("three modalities");

        List<Minibatch> images = read(bootstrap, topics.batch(Modality.IMAGE), 2);
        assertThat(images).extracting(Minibatch::batchSize).containsExactly(1, 2);
        assertThat(images.get(1).shape()).containsExactly(2, 1, 28, 28);
        assertThat(images.get(1).dtype()).isEqualTo(DType.UINT8);
        assertThat(images.stream().flatMapToInt(b -> Arrays.stream(b.labels())).sorted().boxed().toList()).containsExactly(0, 1, 2);
        List<Minibatch> audios = read(bootstrap, topics.batch(Modality.AUDIO), 1);
        assertThat(audios).hasSize(1);
        // 0.5 s at 8 kHz, resampled to 16 kHz: 8000 samples, 1 + (8000 - 400) / 160 = 48 frames, cropped to 40
        assertThat(audios.get(0).shape()).containsExactly(2, 40, 80);
        assertThat(audios.get(0).dtype()).isEqualTo(DType.FP16);
        assertThat(audios.get(0).sampleIds()).containsExactlyInAnyOrder("a0", "a1");
        assertThat(read(bootstrap, topics.batch(Modality.TEXT), 1)).extracting(Minibatch::partial).containsExactly(true);
        Map<String, DeadLetter> dead = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 2, true, READ)) {
            DeadLetter d = DeadLetter.fromConsumerRecord(r);
            dead.put(new String(d.key(), StandardCharsets.UTF_8), d);
        }
        assertThat(dead).containsOnlyKeys("a-bad", "a-1hz");
        assertThat(dead.get("a-bad").stage()).isEqualTo("preprocess.audio.truncated-audio");
        assertThat(dead.get("a-bad").topic()).isEqualTo(topics.raw(Modality.AUDIO));
        assertThat(dead.get("a-1hz").stage()).isEqualTo("preprocess.audio.implausible-audio");
        assertThat(dead.get("a-1hz").errorMessage()).contains("1 Hz");
    }

    @Test
    void aCancelledJobRestoredFromItsRetainedCheckpointLosesNoPendingSample() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        List<String> good = new ArrayList<>();
        // 11 = 2 x 4 + 3: two full batches, three samples pending in the batcher (a timeout far beyond the test)
        produceText(bootstrap, topics, 0, 11, good);
        PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 600_000).withParallelism(1).withBounded(false);
        RetainedState state = new RetainedState(tmp.resolve("state"));
        JobClient first = startWithRetainedState(c, state, null);
        try {
            // the source commits the group's offsets when a checkpoint completes; once they reach 11, a checkpoint
            // taken after the 11th record is done, and its (aligned) batcher state holds the three pending samples
            awaitCommitted(bootstrap, c.groupId(), topics.raw(Modality.TEXT), 11);
            assertThat(readBatches(bootstrap, topics, 2)).extracting(Minibatch::batchSize).containsExactly(4, 4);
            // the running MiniCluster (REST endpoint with job cancel, blob server, RPC) listens on loopback only
            List<ListeningSockets.Socket> listening = ListeningSockets.ofThisProcess();
            assumeTrue(listening != null, "needs Linux's /proc to list this process's sockets");
            assertThat(listening).as("this JVM listens (the MiniCluster at least)").isNotEmpty();
            assertThat(listening).allMatch(ListeningSockets.Socket::loopback, "bound to 127.0.0.1 or ::1 only");
        } finally {
            cancelAndWait(first);
        }
        RetainedState.Checkpoint retained = state.newest().orElseThrow(() -> new AssertionError("no retained checkpoint"));
        assertThat(retained.bounded()).isFalse();
        assertThat(retained.clusterId()).isEqualTo("test-cluster");
        assertThat(retained.path().getFileName().toString()).startsWith("chk-");

        // one more sample: only with the three restored ones does it make a full batch
        produceText(bootstrap, topics, 11, 12, good);
        JobClient second = startWithRetainedState(c, state, retained.path());
        try {
            List<Minibatch> batches = readBatches(bootstrap, topics, 3);
            List<String> ids = batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
            assertThat(batches).extracting(Minibatch::batchSize).containsExactly(4, 4, 4);
            assertThat(ids).as("read_committed: every sample exactly once").containsExactlyInAnyOrderElementsOf(good);
            assertThat(ids).doesNotHaveDuplicates();
        } finally {
            cancelAndWait(second);
        }
    }

    @Test
    void aFinishedBoundedJobLeavesNoCheckpointToRestore() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = freshTopics(bootstrap);
        List<String> good = new ArrayList<>();
        produceText(bootstrap, topics, 0, 5, good);
        PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 600_000).withParallelism(1);
        RetainedState state = new RetainedState(tmp.resolve("finished"));
        JobClient client = startWithRetainedState(c, state, null);
        client.getJobExecutionResult().get(60, TimeUnit.SECONDS);

        assertThat(readBatches(bootstrap, topics, 2)).extracting(Minibatch::batchSize).containsExactly(1, 4);
        assertThat(state.checkpoints()).as("the job wrote its checkpoints there").isDirectory();
        assertThat(state.newest()).as("Flink discards a finished job's checkpoints").isEmpty();
    }

    /**
     * The broker gone for a while (60 s here; {@code -Dd2v.test.outageSeconds=300} for the five minutes the README
     * reports) under a running job: exponential-delay restarts and tolerated checkpoint failures bring it back, and
     * every sample, before and after, is in exactly one committed batch.
     */
    @Test
    void aBrokerOutageIsRiddenOutAndNothingIsLostOrDuplicated() throws Exception {
        long outage = Long.getLong("d2v.test.outageSeconds", 60);
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(tmp.resolve("outage-kafka"), 0))) {
            String bootstrap = broker.bootstrap();
            Topics topics = freshTopics(bootstrap);
            List<String> good = new ArrayList<>();
            produceText(bootstrap, topics, 0, 8, good);
            PreprocessJobConfig c = job(topics, bootstrap).withBatch(4, 600_000).withParallelism(1).withBounded(false)
                    .withRestartAttempts(PreprocessJobConfig.DEFAULT_RESTART_ATTEMPTS).withCheckpointIntervalMs(500);
            StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
            PreprocessJob.buildKafka(env, c);
            JobClient client = env.executeAsync("outage test");
            try {
                assertThat(readBatches(bootstrap, topics, 2)).hasSize(2);
                broker.stop();
                Thread.sleep(outage * 1000);
                broker.start();
                produceText(bootstrap, topics, 8, 16, good);
                List<Minibatch> batches = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.batch(Modality.TEXT), 4,
                        true, Duration.ofMinutes(4))) {
                    batches.add(CODEC.decode(r.value()));
                }
                List<String> ids = batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
                assertThat(ids).as("read_committed after the outage: every sample exactly once")
                        .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(good);
                assertThat(client.getJobStatus().get(30, TimeUnit.SECONDS)).isEqualTo(JobStatus.RUNNING);
            } finally {
                cancelAndWait(client);
            }
        }
    }

    /** As {@code ./d2v preprocess} starts a local job: mode recorded, checkpoints retained, restored when given. */
    private static JobClient startWithRetainedState(PreprocessJobConfig c, RetainedState state, Path restore)
            throws Exception {
        state.markRun(c.bounded(), "test-cluster", Map.of());
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c), state, restore);
        PreprocessJob.buildKafka(env, c);
        return env.executeAsync("text preprocess restore test");
    }

    private static void cancelAndWait(JobClient client) throws Exception {
        client.cancel().get(30, TimeUnit.SECONDS);
        try {
            client.getJobExecutionResult().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException cancelled) {
            // expected: a cancelled job has no result
        }
    }

    private static void awaitCommitted(String bootstrap, String group, String topic, long total) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        long deadline = System.nanoTime() + READ.toNanos();
        try (Admin admin = Admin.create(p)) {
            long committed = 0;
            while (System.nanoTime() < deadline) {
                committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
                        .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                        .mapToLong(e -> e.getValue().offset()).sum();
                if (committed >= total) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("group " + group + " committed " + committed + " of " + total + " offsets");
        }
    }

    private static void produceText(String bootstrap, Topics topics, int from, int to, List<String> ids) {
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = from; i < to; i++) {
                ids.add("k" + i);
                p.send(raw(topics, "k" + i, "sample text " + i, rawHeaders()));
            }
            p.flush();
        }
    }

    private static Headers headers(Modality m, String label) {
        return new RawHeaders(m.defaultContentType(), "test", Optional.ofNullable(label), Optional.empty(), 0).toKafka();
    }

    private static List<Minibatch> read(String bootstrap, String topic, int atLeast) {
        List<Minibatch> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topic, atLeast, true, READ)) {
            out.add(CODEC.decode(r.value()));
        }
        out.sort(Comparator.comparingInt(Minibatch::batchSize).thenComparing(b -> b.sampleIds().get(0)));
        return out;
    }

    // ---- helpers ----

    private PreprocessJobConfig job(Topics topics, String bootstrap) {
        TextTransformConfig text = TextTransformConfig.defaults().withBlocks(8, false, 1);
        Path vocabFile = tmp.resolve("vocab.txt");
        try (TextAnalysis analysis = new TextAnalysis(text.analyzer())) {
            Vocabulary.build(List.of("the quick brown fox", "sample text"), analysis, text).save(vocabFile);
        }
        PipelineConfig cfg = PipelineConfig.defaults().withBootstrap(bootstrap);
        String id = topics.prefix() + "-job";
        return PreprocessJobConfig.from(cfg, TransformSpec.text(text, vocabFile, 0))
                .withIds(id, id)
                .withBounded(true)
                .withCheckpointIntervalMs(200)
                .withRestartAttempts(0)
                .withTopicPrefix(topics.prefix());
    }

    private static Topics freshTopics(String bootstrap) {
        String prefix = "it" + UUID.randomUUID().toString().substring(0, 8);
        PipelineConfig.TopicSettings settings = new PipelineConfig.TopicSettings(prefix, 2, null, null, null);
        try (TopicAdmin admin = new TopicAdmin(PipelineConfig.defaults().withBootstrap(bootstrap).kafka())) {
            admin.ensureTopics(settings);
        }
        return settings.names();
    }

    private static Headers rawHeaders() {
        return new RawHeaders(Modality.TEXT.defaultContentType(), "test", Optional.empty(), Optional.empty(), 0).toKafka();
    }

    private static ProducerRecord<byte[], byte[]> raw(Topics t, String id, String text, Headers h) {
        return raw(t, id, text.getBytes(StandardCharsets.UTF_8), h);
    }

    private static ProducerRecord<byte[], byte[]> raw(Topics t, String id, byte[] value, Headers h) {
        return new ProducerRecord<>(t.raw(Modality.TEXT), null, id.getBytes(StandardCharsets.UTF_8), value, h);
    }

    /** read_committed batches, sorted by size then first id. */
    private static List<Minibatch> readBatches(String bootstrap, Topics t, int atLeast) {
        List<Minibatch> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, t.batch(Modality.TEXT), atLeast, true, READ)) {
            out.add(CODEC.decode(r.value()));
        }
        out.sort(Comparator.comparingInt(Minibatch::batchSize).thenComparing(b -> b.sampleIds().get(0)));
        return out;
    }
}
