package dev.d2v.pipelines.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.ingest.Ingestor;
import dev.d2v.pipelines.ChildProcess;
import dev.d2v.preprocess.job.PreprocessJob;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The whole pipeline running for a while under faults: images ingested continuously at a steady rate, the Flink
 * preprocessing job (in this process, a MiniCluster), the continuous trainer and `evaluate --follow` (each a
 * process of its own), and at every fault interval either the broker stopped for 20 s and started again or the
 * trainer killed with -9 and started again. At the end: the samples ingested, preprocessed (committed batches),
 * trained exactly once (the trainer's sample log, a step retrained after a kill counted once), dead-lettered; the
 * faults survived; and each process's resident memory, threads and open files at the start and at the end.
 */
public final class Soak {

    /**
     * @param probe a labeled image folder the evaluator probes
     * @param rate  images ingested per second
     */
    public record Settings(Path dir, double minutes, double rate, double faultEveryMinutes, long seed, Path probe) {}

    /** /proc figures of one process at one moment. */
    public record ProcessStats(String name, long pid, long rssMb, int threads, int openFiles) {
        static ProcessStats of(String name, long pid) {
            long rss = -1;
            int threads = -1;
            int files = -1;
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        rss = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                    } else if (line.startsWith("Threads:")) {
                        threads = Integer.parseInt(line.replaceAll("\\D", ""));
                    }
                }
                try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
                    files = (int) fds.count();
                }
            } catch (IOException | RuntimeException gone) {
                // not Linux, or the process ended
            }
            return new ProcessStats(name, pid, rss, threads, files);
        }
    }

    /** The longest a read of a whole topic at the end may take. */
    private static final Duration READ = Duration.ofMinutes(2);

    /** One raw record in this many is junk (bytes that are no image). */
    static final int JUNK_EVERY = 100;

    /** @param junk the junk records among the ingested: each must end as a dead letter */
    public record Result(double minutes, long ingested, long ingestFailures, long junk, long preprocessed, long trained,
                         long trainedTwice, long notTrained, long deadLetters, int brokerRestarts, int trainerKills,
                         long trainerSteps, List<ProcessStats> start, List<ProcessStats> end, MemoryTrace memory) {}

    /** Resident memory is sampled this often after the first minute (the trace's slope per process). */
    static final long MEMORY_SAMPLE_MS = 30_000;

    private final Settings s;
    private final PrintStream log;

    public Soak(Settings settings, PrintStream log) {
        this.s = settings;
        this.log = log;
    }

    public Result run() throws Exception {
        FileTrees.delete(s.dir());
        Files.createDirectories(s.dir());
        long t0 = System.nanoTime();
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(s.dir().resolve("kafka"), 0))) {
            Path cfg = s.dir().resolve("d2v.yaml");
            Files.writeString(cfg, String.join("\n", "kafka:", "  bootstrap: " + broker.bootstrap(), "topics:",
                    "  prefix: soak", "  partitions: 1", "data:", "  cacheDir: " + s.dir().resolve("cache"), "batch:",
                    "  image: 8", ""));
            PipelineConfig c = PipelineConfig.load(cfg);
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                admin.ensureTopics(c.topics());
            }
            Topics topics = c.topicNames();
            PreprocessJobConfig job = PreprocessJobConfig.from(c, TransformSpec.image(ImageTransformConfig.defaults(), 0))
                    .withBounded(false).withBatch(8, 3000).withParallelism(1).withCheckpointIntervalMs(2000);
            StreamExecutionEnvironment env = PreprocessJob.environment(List.of(job));
            PreprocessJob.buildKafka(env, job);
            JobClient flink = env.executeAsync("d2v soak preprocess image");
            log.println("soak: broker " + broker.bootstrap() + ", preprocessing job " + flink.getJobID());

            AtomicBoolean ingesting = new AtomicBoolean(true);
            AtomicLong acked = new AtomicLong();
            AtomicLong failures = new AtomicLong();
            AtomicLong junk = new AtomicLong();
            Thread ingest = new Thread(() -> ingest(c, topics, ingesting, acked, failures, junk), "soak-ingest");
            ingest.start();

            Path run = s.dir().resolve("run");
            int trainerStarts = 0;
            ChildProcess trainer = startTrainer(cfg, run, trainerStarts++);
            ChildProcess evaluator = ChildProcess.start(List.of("evaluate", "--config", cfg.toString(), "--follow",
                    "--policy", "newest", "--task", s.probe().toString(), "--no-finetune", "--threads", "1",
                    "--cpu-share", "0.25", "--out", s.dir().resolve("eval").toString(), "--checkpoint-root",
                    s.dir().toString()), s.dir().resolve("logs").resolve("evaluator.log"), null, "");
            Thread.sleep(60_000);   // warmed up: the figures at the start
            List<ProcessStats> start = stats(broker, trainer, evaluator);
            log.println("soak: start " + start);
            MemoryTrace memory = new MemoryTrace();
            long nextSample = System.nanoTime();

            long end = t0 + (long) (s.minutes() * 60e9);
            long faultNs = (long) (s.faultEveryMinutes() * 60e9);
            long nextFault = System.nanoTime() + faultNs;
            int restarts = 0;
            int kills = 0;
            SplittableRandom r = new SplittableRandom(s.seed());
            while (System.nanoTime() < end) {
                Thread.sleep(1000);
                if (System.nanoTime() >= nextSample) {
                    for (ProcessStats p : stats(broker, trainer, evaluator)) {
                        memory.add(p.name(), p.pid(), (System.nanoTime() - t0) / 60e9, p.rssMb());
                    }
                    nextSample += MEMORY_SAMPLE_MS * 1_000_000;
                }
                if (System.nanoTime() < nextFault) {
                    continue;
                }
                nextFault += faultNs;
                if (r.nextBoolean()) {
                    log.printf("soak: %.1f min: the broker stops for 20 s%n", (System.nanoTime() - t0) / 60e9);
                    broker.stop();
                    Thread.sleep(20_000);
                    broker.start();
                    restarts++;
                } else {
                    log.printf("soak: %.1f min: the trainer is killed with -9 and started again%n",
                            (System.nanoTime() - t0) / 60e9);
                    trainer.kill();
                    trainer = startTrainer(cfg, run, trainerStarts++);
                    kills++;
                }
            }
            ingesting.set(false);
            ingest.join();
            log.println("soak: ingest stopped after " + acked.get() + " records; draining for 90 s");
            Thread.sleep(90_000);
            List<ProcessStats> endStats = stats(broker, trainer, evaluator);
            memory.writeCsv(s.dir().resolve("memory.csv"));
            Files.writeString(s.dir().resolve("memory.svg"), memory.svg("resident memory per process, soak"));
            log.println("soak: resident memory every " + MEMORY_SAMPLE_MS / 1000 + " s in "
                    + s.dir().resolve("memory.csv") + " and " + s.dir().resolve("memory.svg"));
            trainer.stop(Duration.ofSeconds(60));
            evaluator.stop(Duration.ofSeconds(60));
            flink.cancel().get();

            Set<String> preprocessed;
            long dead;
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                preprocessed = batchIds(admin, topics);
                dead = admin.committedCount(topics.deadLetter(), READ);
            }
            Map<Long, List<String>> bySteps = stepIds(run.resolve("trained-samples.jsonl"));
            Map<String, Integer> times = new HashMap<>();
            bySteps.values().forEach(ids -> ids.forEach(id -> times.merge(id, 1, Integer::sum)));
            long twice = times.values().stream().filter(n -> n > 1).count();
            Set<String> notTrained = new HashSet<>(preprocessed);
            notTrained.removeAll(times.keySet());
            return new Result((System.nanoTime() - t0) / 60e9, acked.get(), failures.get(), junk.get(),
                    preprocessed.size(), times.size(), twice, notTrained.size(), dead, restarts, kills, bySteps.size(),
                    start, endStats, memory);
        }
    }

    private ChildProcess startTrainer(Path cfg, Path run, int n) throws IOException {
        return ChildProcess.start(List.of("train", "--config", cfg.toString(), "--modality", "image", "--preset", "cpu",
                "--out", run.toString(), "--sample-log", "--checkpoint-every", "10", "--threads", "1",
                "--schedule-steps", "100000"), s.dir().resolve("logs").resolve("trainer-" + n + ".log"), null, "");
    }

    private static List<ProcessStats> stats(LocalKafka broker, ChildProcess trainer, ChildProcess evaluator) {
        return List.of(ProcessStats.of("broker", broker.pid()), ProcessStats.of("trainer", trainer.pid()),
                ProcessStats.of("evaluator", evaluator.pid()),
                ProcessStats.of("ingest + preprocessing (this JVM)", ProcessHandle.current().pid()));
    }

    /** Generated 28 x 28 PNGs at the configured rate; a send the broker does not take in 2 minutes is a failure. */
    private void ingest(PipelineConfig c, Topics topics, AtomicBoolean running, AtomicLong acked, AtomicLong failures,
                        AtomicLong junk) {
        Properties p = Ingestor.producerProperties(c.kafka().clientProps(), c.topics().maxMessageBytes());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        SplittableRandom r = new SplittableRandom(s.seed());
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (long n = 0; running.get(); n++) {
                long due = start + (long) (n / s.rate() * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000);
                }
                // one record in a hundred is not an image: the dead-letter path runs all along
                boolean bad = n % JUNK_EVERY == JUNK_EVERY - 1;
                String id = (bad ? "soak-junk-" : "soak-") + n;
                byte[] value = bad ? ("not an image " + n).getBytes(StandardCharsets.UTF_8) : png(r);
                producer.send(new ProducerRecord<>(topics.raw(Modality.IMAGE), null, id.getBytes(StandardCharsets.UTF_8),
                        value, new RawHeaders("image/png", "soak", Optional.empty(), Optional.empty(),
                        System.currentTimeMillis()).toKafka()), (meta, e) -> {
                    (e == null ? acked : failures).incrementAndGet();
                    if (e == null && bad) {
                        junk.incrementAndGet();
                    }
                });
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] png(SplittableRandom r) throws IOException {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        int x0 = r.nextInt(14);
        int y0 = r.nextInt(14);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                boolean in = x >= x0 && x < x0 + 10 && y >= y0 && y < y0 + 10;
                img.getRaster().setSample(x, y, 0, in ? 200 + r.nextInt(56) : r.nextInt(40));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** Sample ids of every committed batch. */
    private static Set<String> batchIds(TopicAdmin admin, Topics topics) {
        Set<String> ids = new HashSet<>();
        MinibatchCodec codec = MinibatchCodec.inline();
        admin.forEachCommitted(topics.batch(Modality.IMAGE), READ,
                rec -> ids.addAll(codec.decode(rec.value()).sampleIds()));
        return ids;
    }

    /**
     * The trainer's sample log as step -> ids: a step written twice (trained after the last checkpoint by a run that
     * was killed, then again by the resumed run) counts once, as its last writing.
     */
    static Map<Long, List<String>> stepIds(Path sampleLog) throws IOException {
        Map<Long, List<String>> out = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        if (!Files.exists(sampleLog)) {
            return out;
        }
        for (String line : Files.readAllLines(sampleLog)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = json.readTree(line);
            } catch (IOException cutOff) {   // the last line of a run killed while writing it
                continue;
            }
            List<String> ids = new ArrayList<>();
            n.get("ids").forEach(id -> ids.add(id.asText()));
            out.put(n.get("step").asLong(), ids);
        }
        return out;
    }

    /** The result as one JSON object per figure, as the other benchmarks print. */
    public static List<Map<String, Object>> figures(Result r) {
        List<Map<String, Object>> out = new ArrayList<>();
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("minutes", Math.round(r.minutes() * 10) / 10.0);
        base.put("broker_restarts", r.brokerRestarts());
        base.put("trainer_kills", r.trainerKills());
        for (Object[] f : new Object[][] {{"ingested", r.ingested()}, {"ingest_failures", r.ingestFailures()},
                {"junk_ingested", r.junk()},
                {"preprocessed", r.preprocessed()}, {"trained", r.trained()}, {"trained_twice", r.trainedTwice()},
                {"not_trained", r.notTrained()}, {"dead_letters", r.deadLetters()}, {"trainer_steps", r.trainerSteps()}}) {
            Map<String, Object> m = new LinkedHashMap<>(base);
            m.put("name", "soak_" + f[0]);
            m.put("value", f[1]);
            m.put("unit", "samples");
            out.add(m);
        }
        for (int i = 0; i < r.start().size(); i++) {
            ProcessStats a = r.start().get(i);
            ProcessStats b = r.end().get(i);
            Map<String, Object> m = new LinkedHashMap<>(base);
            m.put("name", "soak_process");
            m.put("process", a.name());
            m.put("rss_mb_start", a.rssMb());
            m.put("rss_mb_end", b.rssMb());
            m.put("threads_start", a.threads());
            m.put("threads_end", b.threads());
            m.put("open_files_start", a.openFiles());
            m.put("open_files_end", b.openFiles());
            out.add(m);
        }
        for (String name : r.memory().names()) {
            Map<String, Object> m = new LinkedHashMap<>(base);
            m.put("name", "soak_rss_slope");
            double slope = r.memory().slopeMbPerHour(name);
            m.put("value", Double.isNaN(slope) ? null : Math.round(slope * 10) / 10.0); // null: under 3 samples
            m.put("unit", "MB/hour");
            m.put("process", name);
            m.put("peak_rss_mb", Math.round(r.memory().peakMb(name)));
            m.put("over_minutes", Math.round(r.memory().minutes(name) * 10) / 10.0);
            double late = r.memory().lateSlopeMbPerHour(name);
            m.put("second_half_mb_per_hour", Double.isNaN(late) ? null : Math.round(late * 10) / 10.0);
            out.add(m);
        }
        return out;
    }
}
