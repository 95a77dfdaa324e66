package dev.d2v.pipelines.bench;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.step.Trainer;
import dev.d2v.train.stream.BatchSource;
import dev.d2v.train.stream.KafkaBatchSource;
import dev.d2v.train.stream.MemoryBatchSource;
import dev.d2v.train.stream.StreamSettings;
import dev.d2v.train.stream.StreamTrainer;
import dev.d2v.train.stream.TrainedStep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * {@code bench train-stream}: the cost of feeding the trainer from Kafka. The same image minibatches train the same
 * model twice, once from memory and once through the batch topic (prefetch thread, decode, bounded queue); both rates
 * are taken over the steps after a warm-up. Figures: {@code stream_overhead_ratio} = samples/s from memory / samples/s
 * from Kafka (1.0 = no overhead), {@code data_wait_fraction} = the share of the Kafka run's wall time the loop waited for
 * a batch, and both rates. After a throw-away warm-up run the two feeds alternate {@code rounds} times and the best
 * run of each counts.
 *
 * <p>Then the same trainer with the preprocessing running beside it on this machine: raw images arrive on a raw topic
 * at {@link Settings#rawRate} times the memory-fed training rate, the image preprocessing job (Flink MiniCluster, the
 * exactly-once sink committing at every checkpoint) turns them into minibatches, and the trainer reads them as they
 * are committed, checking their preprocessing config hash. Its {@code data_wait_fraction} (parameter
 * {@code preprocessing: beside}) is the share of wall time the trainer waited for a batch while both compete for the
 * cores; the first figure ({@code preprocessing: before}) has the topic filled beforehand.
 */
public final class TrainStreamBench {

    /**
     * @param model     the model (its image encoder sets the batch shape)
     * @param batches   minibatches per run
     * @param batchSize samples per minibatch
     * @param warmup    steps left out of the rates (engine start, first allocations)
     * @param rounds    memory and Kafka runs alternate this many times; the best of each counts
     * @param bootstrap an existing broker, or null to start a local one under workDir
     * @param rawRate   raw records per second offered to the preprocessing job beside the trainer, as a multiple of
     *                  the memory-fed training rate (above 1: the trainer, not the source, sets the pace); 0 skips
     *                  that run
     * @param preprocessCheckpointMs the job's checkpoint interval: its sink commits (makes batches visible) that often
     */
    public record Settings(Data2VecConfig model, String preset, int batches, int batchSize, int warmup, int rounds,
                           String bootstrap, Path workDir, long seed, double rawRate, long preprocessCheckpointMs) {
        public Settings {
            if (!(rawRate >= 0) || Double.isInfinite(rawRate)) {
                throw new IllegalArgumentException("--raw-rate must be >= 0 (0 = skip), got " + rawRate);
            }
            if (preprocessCheckpointMs < 100) {
                throw new IllegalArgumentException("--preprocess-checkpoint-ms must be >= 100, got " + preprocessCheckpointMs);
            }
            if (rounds < 1) {
                throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
            }
            if (batches <= warmup + 1) {
                throw new IllegalArgumentException("--batches must exceed the warm-up (" + warmup + ") by 2 or more");
            }
        }
    }

    /** Samples per second and data-wait share over the steps after the warm-up. */
    record Measured(double samplesPerSecond, double dataWaitFraction, double wallSeconds, double stepMs) {}

    private TrainStreamBench() {}

    public static void run(Settings s, Consumer<BenchResult> emit) throws Exception {
        List<Minibatch> batches = images(s);
        Map<Modality, List<Minibatch>> inMemory = Map.of(Modality.IMAGE, batches);
        LocalKafka broker = s.bootstrap() == null
                ? LocalKafka.start(LocalKafka.Settings.of(s.workDir().resolve("kafka"), 0)) : null;
        Measured memory = null;
        Measured kafka = null;
        Measured beside = null;
        try {
            String bootstrap = broker != null ? broker.bootstrap() : s.bootstrap();
            Topics topics = produce(bootstrap, batches);
            Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            // a throw-away run warms the JIT and the engine; then the feeds alternate, best of each counts (a shared
            // machine's load comes and goes; the best run is the one least disturbed)
            measure(s, new MemoryBatchSource(inMemory), s.workDir().resolve("warm"));
            for (int round = 0; round < s.rounds(); round++) {
                Measured m = measure(s, new MemoryBatchSource(inMemory), s.workDir().resolve("memory-" + round));
                Measured k = measure(s, KafkaBatchSource.open(props, topics, List.of(Modality.IMAGE), Map.of(), 4,
                        MinibatchCodec.inline(), Map.of(), x -> {}), s.workDir().resolve("kafka-" + round));
                System.err.printf("round %d: memory %.2f samples/s (%.0f ms/step), kafka %.2f samples/s (%.0f ms/step)%n",
                        round, m.samplesPerSecond(), m.stepMs(), k.samplesPerSecond(), k.stepMs());
                memory = memory == null || m.samplesPerSecond() > memory.samplesPerSecond() ? m : memory;
                kafka = kafka == null || k.samplesPerSecond() > kafka.samplesPerSecond() ? k : kafka;
            }
            if (s.rawRate() > 0) {
                beside = besidePreprocessing(s, bootstrap, s.rawRate() * memory.samplesPerSecond());
                System.err.printf("preprocessing beside: %.2f samples/s (%.0f ms/step), data wait %.1f%%%n",
                        beside.samplesPerSecond(), beside.stepMs(), 100 * beside.dataWaitFraction());
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("modality", "image");
        p.put("preset", s.preset());
        p.put("batch_size", s.batchSize());
        p.put("steps", s.batches() - s.warmup() - 1);
        p.put("rounds", s.rounds());
        p.put("image_shape", shape(batches.get(0)));
        emit.accept(new BenchResult("stream_overhead_ratio", memory.samplesPerSecond() / kafka.samplesPerSecond(), "x", p));
        emit.accept(new BenchResult("data_wait_fraction", kafka.dataWaitFraction(), "fraction",
                with(p, "preprocessing", "before")));
        emit.accept(new BenchResult("train_samples_per_s", memory.samplesPerSecond(), "samples/s",
                with(with(p, "feed", "memory"), "step_ms", memory.stepMs())));
        emit.accept(new BenchResult("train_samples_per_s", kafka.samplesPerSecond(), "samples/s",
                with(with(p, "feed", "kafka"), "step_ms", kafka.stepMs())));
        if (beside != null) {
            Map<String, Object> b = with(with(with(p, "preprocessing", "beside"), "raw_records_per_s",
                    Math.round(s.rawRate() * memory.samplesPerSecond() * 10) / 10.0), "preprocess_checkpoint_ms",
                    s.preprocessCheckpointMs());
            b.put("rounds", 1);
            emit.accept(new BenchResult("data_wait_fraction", beside.dataWaitFraction(), "fraction", b));
            emit.accept(new BenchResult("train_samples_per_s", beside.samplesPerSecond(), "samples/s",
                    with(with(b, "feed", "kafka"), "step_ms", beside.stepMs())));
        }
    }

    /**
     * The Kafka feed with the image preprocessing job running beside the trainer: a producer thread offers raw images
     * at rawPerSecond, the unbounded job batches them (batch size and partial timeout of the run), the trainer reads
     * the batch topic with the job's config hash required. The job is cancelled afterwards.
     */
    private static Measured besidePreprocessing(Settings s, String bootstrap, double rawPerSecond) throws Exception {
        BenchTopics bench = BenchTopics.create(bootstrap);
        TransformSpec spec = TransformSpec.image(ImageTransformConfig.defaults(), 0);
        PreprocessJobConfig c = PreprocessJobConfig.from(bench.config(), spec).withTopicPrefix(bench.prefix())
                .withIds(bench.prefix() + "-image", bench.prefix() + "-image").withBatch(s.batchSize(), 2000)
                .withCheckpointIntervalMs(s.preprocessCheckpointMs());
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.buildKafka(env, c);
        JobClient job = env.executeAsync("bench train-stream: image preprocessing beside the trainer");
        // enough raw records for every step, and one more checkpoint's worth so that the last batches commit
        int records = (int) Math.min(Integer.MAX_VALUE, (long) (s.batches() + 1) * s.batchSize()
                + (long) Math.ceil(rawPerSecond * s.preprocessCheckpointMs() / 1000.0));
        AtomicBoolean stop = new AtomicBoolean();
        Thread producer = new Thread(() -> produceRaw(bench, records, rawPerSecond, s.seed(), stop), "bench-raw-producer");
        producer.setDaemon(true);
        producer.start();
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try {
            return measure(s, KafkaBatchSource.open(props, bench.topics(), List.of(Modality.IMAGE), Map.of(), 4,
                    MinibatchCodec.inline(), Map.of(Modality.IMAGE, spec.configHash()), x -> {}),
                    s.workDir().resolve("beside"));
        } finally {
            stop.set(true);
            producer.join(10_000);
            try {
                job.cancel().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("cancelling the bench preprocessing job: " + e);
            }
        }
    }

    /** n raw images onto the raw topic, paced at perSecond (sleeping between sends), until done or stopped. */
    private static void produceRaw(BenchTopics bench, int n, double perSecond, long seed, AtomicBoolean stop) {
        List<RawRecord> raw = PreprocessBench.rawRecords(Modality.IMAGE, n, seed);
        String topic = bench.topics().raw(Modality.IMAGE);
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = bench.producer()) {
            for (int i = 0; i < raw.size() && !stop.get(); i++) {
                long due = start + (long) (i * 1e9 / perSecond);
                long sleep = due - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
                RawRecord r = raw.get(i);
                producer.send(new ProducerRecord<>(topic, null, r.key(), r.value(), r.kafkaHeaders()));
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Measured measure(Settings s, BatchSource source, Path checkpoints) throws Exception {
        List<Long> endNs = new ArrayList<>();
        List<Double> waitMs = new ArrayList<>();
        List<Integer> samples = new ArrayList<>();
        List<Double> stepMs = new ArrayList<>();
        StreamSettings settings = StreamSettings.defaults(List.of(Modality.IMAGE))
                .withCheckpoints(0, null, new RetentionPolicy(1, 0))
                .withStop(s.batches(), Duration.ofSeconds(60));
        Consumer<TrainedStep> timing = t -> {
            endNs.add(System.nanoTime());
            waitMs.add(t.dataWaitMs());
            samples.add(t.result().samples());
            stepMs.add(t.result().nanos() / 1e6);
        };
        try (Trainer t = new Trainer(s.model(), Device.cpu(), s.seed()); source) {
            StreamTrainer.train(t, source, Map.of(), settings, checkpoints, null,
                    StreamTrainer.Hooks.quiet().withListeners(List.of(timing)), () -> false);
        }
        int w = s.warmup();
        double wall = (endNs.get(endNs.size() - 1) - endNs.get(w)) / 1e9;
        double waited = waitMs.subList(w + 1, waitMs.size()).stream().mapToDouble(Double::doubleValue).sum() / 1e3;
        long n = samples.subList(w + 1, samples.size()).stream().mapToLong(Integer::longValue).sum();
        double compute = stepMs.subList(w + 1, stepMs.size()).stream().mapToDouble(Double::doubleValue).average().orElse(0);
        return new Measured(n / wall, waited / wall, wall, compute);
    }

    /** Seeded random images shaped like the model's image encoder input, (B, C, H, W) uint8. */
    static List<Minibatch> images(Settings s) {
        var enc = s.model().image().localEncoder();
        int c = enc.channels();
        int h = enc.height();
        int wd = enc.width();
        SplittableRandom r = new SplittableRandom(s.seed());
        List<Minibatch> out = new ArrayList<>();
        for (int i = 0; i < s.batches(); i++) {
            byte[] px = new byte[s.batchSize() * c * h * wd];
            for (int j = 0; j < px.length; j++) {
                px[j] = (byte) r.nextInt(256);
            }
            List<String> ids = new ArrayList<>();
            for (int j = 0; j < s.batchSize(); j++) {
                ids.add("bench-" + i + "-" + j);
            }
            out.add(Minibatch.builder(Modality.IMAGE, s.batchSize(), c, h, wd).sampleIds(ids)
                    .createdAtMs(System.currentTimeMillis()).uint8(px));
        }
        return out;
    }

    private static Topics produce(String bootstrap, List<Minibatch> batches) throws Exception {
        BenchTopics bench = BenchTopics.create(bootstrap);
        Topics topics = bench.topics();
        MinibatchCodec codec = MinibatchCodec.inline();
        try (KafkaProducer<byte[], byte[]> producer = bench.producer()) {
            for (Minibatch b : batches) {
                producer.send(new ProducerRecord<>(topics.batch(Modality.IMAGE), null, codec.encode(b)));
            }
            producer.flush();
        }
        return topics;
    }

    private static String shape(Minibatch b) {
        return Arrays.toString(b.shape()).replace(" ", "");
    }

    private static Map<String, Object> with(Map<String, Object> p, String k, Object v) {
        Map<String, Object> out = new LinkedHashMap<>(p);
        out.put(k, v);
        return out;
    }
}
