package dev.d2v.pipelines.bench;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * {@code ./d2v bench preprocess}: the cost of each modality's preprocessing, per core.
 *
 * <ul>
 *   <li>{@code records_per_s_per_core}, stage {@code transform}: the transform alone (raw headers, decode,
 *       transform, wire dtype) on one thread over seeded synthetic records, records per CPU-second of that thread
 *       after a warm-up.</li>
 *   <li>{@code records_per_s_per_core}, stage {@code flink}: the same records through the whole job (KafkaSource,
 *       transform, keyed batcher, exactly-once KafkaSink, checkpoints) on a local MiniCluster, parallelism 1, against
 *       a real broker: records per CPU-second of this JVM, the CPU of an empty run of the same job just before
 *       (MiniCluster and job start, the final checkpoint) subtracted, so the figure is the steady-state cost per
 *       record; a throw-away run first warms the JIT. The broker runs in its own JVM and is not counted.</li>
 *   <li>{@code flink_overhead_ratio}: CPU per record through the job / CPU per record of the transform alone.</li>
 *   <li>{@code audio_realtime_factor}: seconds of audio turned into log-mel features per CPU-second (x real time).</li>
 *   <li>{@code text_tokens_per_s}: analysed tokens (the block's valid length less [CLS] and [SEP]) per CPU-second.</li>
 * </ul>
 */
public final class PreprocessBench {

    /**
     * @param records   synthetic records per modality (image, audio, text order of Modality.values())
     * @param flink     also run the jobs (needs a broker: {@code bootstrap}, or null to start a local one in workDir)
     * @param bootstrap an existing broker, or null
     * @param workDir   scratch folder (vocabulary, local broker storage)
     */
    public record Settings(Map<Modality, Integer> records, boolean flink, String bootstrap, Path workDir, long seed) {
        public Settings {
            records = Map.copyOf(records);
        }

        public static Map<Modality, Integer> defaultRecords() {
            // sized for a few seconds of CPU each on one core of a small machine
            return Map.of(Modality.IMAGE, 20_000, Modality.AUDIO, 1_000, Modality.TEXT, 100_000);
        }
    }

    private PreprocessBench() {
    }

    public static List<BenchResult> run(Settings s, Consumer<BenchResult> out) throws Exception {
        List<BenchResult> results = new ArrayList<>();
        Consumer<BenchResult> emit = r -> {
            results.add(r);
            out.accept(r);
        };
        Map<Modality, TransformSpec> specs = new LinkedHashMap<>();
        Map<Modality, Double> transformRate = new LinkedHashMap<>();
        for (Modality m : Modality.values()) {
            int n = s.records().getOrDefault(m, 0);
            if (n < 1) {
                continue;
            }
            TransformSpec spec = spec(m, s);
            specs.put(m, spec);
            List<RawRecord> raw = rawRecords(m, n, s.seed());
            TransformRun t = transform(spec, raw);
            double rate = n / t.cpuSeconds();
            transformRate.put(m, rate);
            emit.accept(new BenchResult("records_per_s_per_core", rate, "records/s",
                    params(m, "transform", n, ordered("cpu_s", t.cpuSeconds()))));
            if (m == Modality.AUDIO) {
                emit.accept(new BenchResult("audio_realtime_factor", n * SyntheticRaw.AUDIO_SECONDS / t.cpuSeconds(),
                        "x realtime", params(m, "transform", n, ordered("audio_s_per_record", SyntheticRaw.AUDIO_SECONDS,
                                "sample_rate", SyntheticRaw.AUDIO_RATE))));
            }
            if (m == Modality.TEXT) {
                emit.accept(new BenchResult("text_tokens_per_s", t.tokens() / t.cpuSeconds(), "tokens/s",
                        params(m, "transform", n, ordered("tokens", t.tokens()))));
            }
        }
        if (!s.flink() || specs.isEmpty()) {
            return results;
        }
        LocalKafka broker = s.bootstrap() == null
                ? LocalKafka.start(LocalKafka.Settings.of(s.workDir().resolve("kafka"), 0)) : null;
        try {
            String bootstrap = broker != null ? broker.bootstrap() : s.bootstrap();
            // one throw-away run warms the JIT and the Flink runtime classes; then per modality an empty run and a
            // full run of the same job, so the difference is the per-record cost at steady state
            Modality first = specs.keySet().iterator().next();
            flinkRun(bootstrap, specs.get(first), rawRecords(first, 200, s.seed() + 1));
            for (Map.Entry<Modality, TransformSpec> e : specs.entrySet()) {
                Modality m = e.getKey();
                int n = s.records().get(m);
                double emptyCpu = flinkRun(bootstrap, e.getValue(), List.of()).cpuSeconds();
                FlinkRun f = flinkRun(bootstrap, e.getValue(), rawRecords(m, n, s.seed()));
                double cpu = Math.max(f.cpuSeconds() - emptyCpu, 0.05 * f.cpuSeconds());
                double rate = n / cpu;
                emit.accept(new BenchResult("records_per_s_per_core", rate, "records/s", params(m, "flink", n,
                        ordered("parallelism", 1, "batch_size", f.batchSize(), "cpu_s", f.cpuSeconds(),
                                "empty_job_cpu_s", emptyCpu, "wall_s", f.wallSeconds()))));
                emit.accept(new BenchResult("flink_overhead_ratio", transformRate.get(m) / rate, "x",
                        params(m, "flink", n, Map.of())));
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        return results;
    }

    private static Map<String, Object> params(Modality m, String stage, int n, Map<String, Object> more) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("modality", m.id());
        p.put("stage", stage);
        p.put("records", n);
        p.putAll(more);
        return p;
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static TransformSpec spec(Modality m, Settings s) {
        return switch (m) {
            case IMAGE -> TransformSpec.image(ImageTransformConfig.defaults(), 0);
            case AUDIO -> TransformSpec.audio(AudioTransformConfig.defaults(), 0);
            case TEXT -> {
                TextTransformConfig cfg = TextTransformConfig.defaults();
                List<String> corpus = new ArrayList<>();
                for (int i = 0; i < 2000; i++) {
                    corpus.add(new String(SyntheticRaw.value(Modality.TEXT, i, s.seed()), StandardCharsets.UTF_8));
                }
                Path file = s.workDir().resolve("bench-text.vocab");
                try (TextAnalysis analysis = new TextAnalysis(cfg.analyzer())) {
                    Vocabulary.build(corpus, analysis, cfg).save(file);
                }
                yield TransformSpec.text(cfg, file, 0);
            }
        };
    }

    static List<RawRecord> rawRecords(Modality m, int n, long seed) {
        Header[] hs = SyntheticRaw.headers(m).toKafka().toArray();
        String[] keys = new String[hs.length];
        byte[][] values = new byte[hs.length][];
        for (int i = 0; i < hs.length; i++) {
            keys[i] = hs[i].key();
            values[i] = hs[i].value();
        }
        List<RawRecord> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new RawRecord("bench", 0, i, 0, (m.id() + "-" + i).getBytes(StandardCharsets.UTF_8),
                    SyntheticRaw.value(m, i, seed), keys, values));
        }
        return out;
    }

    record TransformRun(double cpuSeconds, long tokens) {
    }

    /** Warm-up over a quarter of the records, then all of them timed by this thread's CPU clock. */
    static TransformRun transform(TransformSpec spec, List<RawRecord> raw) {
        SampleTransformer t = spec.open();
        for (RawRecord r : raw.subList(0, Math.max(1, raw.size() / 4))) {
            t.apply(r);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long tokens = 0;
        long c0 = threads.getCurrentThreadCpuTime();
        for (RawRecord r : raw) {
            for (Sample smp : t.apply(r)) {
                tokens += Math.max(0, smp.validLength() - 2);
            }
        }
        double cpu = (threads.getCurrentThreadCpuTime() - c0) / 1e9;
        return new TransformRun(Math.max(cpu, 1e-6), tokens);
    }

    record FlinkRun(double cpuSeconds, double wallSeconds, int batchSize) {
    }

    /** The records into a fresh raw topic, then the bounded job over them; this JVM's CPU and the wall time of the job. */
    static FlinkRun flinkRun(String bootstrap, TransformSpec spec, List<RawRecord> raw) throws Exception {
        Modality m = spec.modality();
        BenchTopics bench = BenchTopics.create(bootstrap);
        String prefix = bench.prefix();
        PipelineConfig cfg = bench.config();
        Topics topics = bench.topics();
        try (KafkaProducer<byte[], byte[]> producer = bench.producer()) {
            for (RawRecord r : raw) {
                producer.send(new ProducerRecord<>(topics.raw(m), null, r.key(), r.value(), r.kafkaHeaders()));
            }
            producer.flush();
        }
        PreprocessJobConfig c = PreprocessJobConfig.from(cfg, spec).withTopicPrefix(prefix)
                .withIds(prefix + "-" + m.id(), prefix + "-" + m.id()).withBounded(true).withCheckpointIntervalMs(2000);
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.buildKafka(env, c);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long w0 = System.nanoTime();
        env.execute("bench preprocess " + m.id());
        return new FlinkRun((os.getProcessCpuTime() - c0) / 1e9, (System.nanoTime() - w0) / 1e9, c.batchSize());
    }
}
