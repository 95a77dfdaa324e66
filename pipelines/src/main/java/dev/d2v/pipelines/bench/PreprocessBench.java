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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
        try (MiniCluster cluster = miniCluster(specs.values());
             JobProfile.Recorder recorder = new JobProfile.Recorder(s.workDir())) {
            String bootstrap = broker != null ? broker.bootstrap() : s.bootstrap();
            // every run on one MiniCluster, as a deployed job runs on a cluster that outlives it: a MiniCluster per
            // run would load Flink's RPC system (Pekko, Scala) into a fresh class loader each time and have the JIT
            // compile it again, half the CPU of a 100,000-record text run. Per modality warm-up runs over a
            // quarter of the records (warmUp), then an empty run and a full run of the same job: the
            // difference is the per-record cost at steady state
            for (Map.Entry<Modality, TransformSpec> e : specs.entrySet()) {
                Modality m = e.getKey();
                int n = s.records().get(m);
                int warmups = warmUp(cluster, bootstrap, e.getValue(), rawRecords(m, Math.max(200, n / 4), s.seed() + 1));
                FlinkRun empty = flinkRun(cluster, bootstrap, e.getValue(), List.of(), recorder);
                FlinkRun f = flinkRun(cluster, bootstrap, e.getValue(), rawRecords(m, n, s.seed()), recorder);
                double cpu = Math.max(f.cpuSeconds() - empty.cpuSeconds(), 0.05 * f.cpuSeconds());
                double rate = n / cpu;
                emit.accept(new BenchResult("records_per_s_per_core", rate, "records/s", params(m, "flink", n,
                        ordered("parallelism", 1, "batch_size", f.batchSize(), "cpu_s", f.cpuSeconds(),
                                "empty_job_cpu_s", empty.cpuSeconds(), "wall_s", f.wallSeconds()))));
                emit.accept(new BenchResult("flink_overhead_ratio", transformRate.get(m) / rate, "x",
                        params(m, "flink", n, Map.of())));
                // the transform alone is timed on its thread's clock, which leaves out the JIT compiler's threads;
                // the same figure for the job, like for like
                double cpuNoJit = Math.max(f.cpuSecondsWithoutJit() - empty.cpuSecondsWithoutJit(),
                        0.05 * f.cpuSecondsWithoutJit());
                emit.accept(new BenchResult("flink_overhead_ratio_without_jit", transformRate.get(m) * cpuNoJit / n, "x",
                        params(m, "flink", n, ordered("cpu_s", f.cpuSecondsWithoutJit(),
                                "empty_job_cpu_s", empty.cpuSecondsWithoutJit()))));
                emit.accept(new BenchResult("flink_profile", f.cpuSeconds(), "cpu_s", params(m, "flink", n,
                        ordered("warmup_runs", warmups, "threads", BenchResult.shares3(f.profile().threadShares()),
                                "top_frames", BenchResult.shares3(f.profile().topFrames(TOP_FRAMES))))));
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        return results;
    }

    /**
     * Warm-up runs of the job until the JIT compiler has caught up: until the compilation time during one run is
     * under {@value #JIT_SETTLED} of its CPU time, at most {@value #MAX_WARMUPS} runs. One run is not enough on a
     * busy machine, where the compiler threads get little of the cores and the hot paths still run in C1's
     * profiling code when the next run starts. Returns the runs made.
     */
    private static int warmUp(MiniCluster cluster, String bootstrap, TransformSpec spec, List<RawRecord> raw)
            throws Exception {
        var jit = ManagementFactory.getCompilationMXBean();
        for (int run = 1; ; run++) {
            long j0 = jit.getTotalCompilationTime();
            FlinkRun f = flinkRun(cluster, bootstrap, spec, raw, null);
            double compileS = (jit.getTotalCompilationTime() - j0) / 1e3;
            if (compileS < JIT_SETTLED * f.cpuSeconds() || run == MAX_WARMUPS) {
                return run;
            }
        }
    }

    static final double JIT_SETTLED = 0.1;
    static final int MAX_WARMUPS = 6;

    /** Frames listed in a flink_profile line. */
    static final int TOP_FRAMES = 12;

    /** One local MiniCluster for every run, configured as the jobs' own environment (loopback only). */
    private static MiniCluster miniCluster(Iterable<TransformSpec> specs) throws Exception {
        PreprocessJobConfig any = PreprocessJobConfig.from(PipelineConfig.defaults(), specs.iterator().next());
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(PreprocessJob.loopbackOnly(PreprocessJob.flinkConfiguration(any)))
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build());
        cluster.start();
        return cluster;
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
            // crop and flip, as the README's figures were measured (the default flips no image since 2026-12-07)
            case IMAGE -> TransformSpec.image(ImageTransformConfig.defaults().withFlipProbability(0.5), 0);
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

    /**
     * Warm-up over a quarter of the records, then all of them timed by this thread's CPU clock, {@value #PASSES}
     * times: the median pass (a text pass is under a second of CPU, and one pass varied by a quarter between runs).
     */
    static TransformRun transform(TransformSpec spec, List<RawRecord> raw) {
        SampleTransformer t = spec.open();
        for (RawRecord r : raw.subList(0, Math.max(1, raw.size() / 4))) {
            t.apply(r);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] cpu = new double[PASSES];
        long tokens = 0;
        for (int pass = 0; pass < PASSES; pass++) {
            tokens = 0;
            long c0 = threads.getCurrentThreadCpuTime();
            for (RawRecord r : raw) {
                for (Sample smp : t.apply(r)) {
                    tokens += Math.max(0, smp.validLength() - 2);
                }
            }
            cpu[pass] = (threads.getCurrentThreadCpuTime() - c0) / 1e9;
        }
        Arrays.sort(cpu);
        return new TransformRun(Math.max(cpu[PASSES / 2], 1e-6), tokens);
    }

    static final int PASSES = 3;

    /** A job's run: its process CPU and wall time, and where the CPU went (null when not profiled). */
    record FlinkRun(double cpuSeconds, double wallSeconds, int batchSize, JobProfile profile) {
        /** The CPU less the JIT compiler threads' share. */
        double cpuSecondsWithoutJit() {
            return cpuSeconds * (1 - profile.threadShares().getOrDefault(JobProfile.JIT, 0.0));
        }
    }

    /**
     * The records into a fresh raw topic, then the bounded job over them on the cluster: this JVM's CPU and the wall
     * time of the job, and its profile when a recorder is given.
     */
    static FlinkRun flinkRun(MiniCluster cluster, String bootstrap, TransformSpec spec, List<RawRecord> raw,
                             JobProfile.Recorder recorder) throws Exception {
        Modality m = spec.modality();
        BenchTopics bench = BenchTopics.create(bootstrap);
        String prefix = bench.prefix();
        PipelineConfig cfg = bench.config();
        Topics topics = bench.topics();
        try (KafkaProducer<byte[], byte[]> producer = bench.producer()) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(raw.size());
            for (RawRecord r : raw) {
                sent.add(producer.send(
                        new ProducerRecord<>(topics.raw(m), null, r.key(), r.value(), r.kafkaHeaders())));
            }
            producer.flush();
            // a send that failed after its retries would leave the job fewer records than the rate divides by
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
        PreprocessJobConfig c = PreprocessJobConfig.from(cfg, spec).withTopicPrefix(prefix)
                .withIds(prefix + "-" + m.id(), prefix + "-" + m.id()).withBounded(true).withCheckpointIntervalMs(2000);
        StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
        PreprocessJob.buildKafka(env, c);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        JobProfile profile = recorder == null ? null : recorder.window();
        long c0 = os.getProcessCpuTime();
        long w0 = System.nanoTime();
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("bench preprocess " + m.id());
        JobGraph job = graph.getJobGraph();
        double cpu;
        double wall;
        try {
            cluster.executeJobBlocking(job);
        } finally {
            cpu = (os.getProcessCpuTime() - c0) / 1e9;
            wall = (System.nanoTime() - w0) / 1e9;
            if (profile != null) {
                profile.close(); // after the clocks are read: the summary's own work is not the job's
            }
        }
        return new FlinkRun(cpu, wall, c.batchSize(), profile);
    }
}
