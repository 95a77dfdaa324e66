package dev.d2v.pipelines.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where this JVM's CPU went while a benchmark ran, in two views that a regression can be read from:
 *
 * <ul>
 *   <li>{@link #threadShares()}: each thread group's share of the process CPU, from the kernel's per-thread
 *       counters ({@code /proc/self/task/<tid>/stat}, polled every 200 ms so that threads which end with the job are
 *       counted too). It sees what a Java profiler does not: the JIT compiler threads, the garbage collector, time in
 *       system calls. Empty where /proc is missing.</li>
 *   <li>{@link #topFrames(int)}: the methods on top of the stack most often, from a JDK Flight Recorder recording of
 *       execution samples every 10 ms (the JDK's own profiler; {@code jdk.ExecutionSample}), with the share of all
 *       samples each one has.</li>
 * </ul>
 *
 * Their own cost is reported as the thread group "profiler" (2-3% of a measured run's CPU in the runs of
 * 2026-12-07); the figures a benchmark prints are measured with the profile running. The
 * flight recording is started once, before any warm-up ({@link Recorder}), and each profile reads the samples of its
 * own time window: starting a recording makes the JVM throw away its compiled code (the JFR's event classes are
 * retransformed, and every method that inlined from them is deoptimised), and the measured run would pay for
 * compiling it all again (half its CPU in a 100,000-record text run).
 */
final class JobProfile implements AutoCloseable {

    /** The flight recording that every profile of a benchmark reads from: start it before the warm-up runs. */
    static final class Recorder implements AutoCloseable {
        private final Recording recording;
        private final Path scratch;

        Recorder(Path scratch) {
            this.scratch = scratch;
            recording = new Recording();
            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
            recording.setToDisk(true);
            recording.start();
        }

        /** Starts a profile window; its {@link JobProfile#close()} ends it. */
        JobProfile window() {
            return new JobProfile(this);
        }

        @Override
        public void close() {
            recording.close();
        }
    }

    /** The JIT compiler threads' group in {@link #threadShares()}. */
    static final String JIT = "jit compiler";

    private static final Path TASKS = Path.of("/proc/self/task");

    private final Map<String, long[]> ticks = new HashMap<>(); // tid -> {first, last}
    private final Map<String, String> names = new HashMap<>();
    private final Thread poller;
    private final Recorder recorder;
    private final Instant from;
    private volatile boolean running = true;
    private Map<String, Double> shares = Map.of();
    private Map<String, Double> frames = Map.of();

    private JobProfile(Recorder recorder) {
        this.recorder = recorder;
        from = Instant.now();
        poll();
        poller = new Thread(() -> {
            while (running) {
                poll();
                try {
                    TimeUnit.MILLISECONDS.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-profile");
        poller.setDaemon(true);
        poller.start();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        running = false;
        poller.interrupt();
        poller.join();
        poll();
        Instant to = Instant.now();
        shares = groupShares();
        Path jfr = Files.createTempFile(recorder.scratch, "profile", ".jfr");
        try {
            recorder.recording.dump(jfr);
            frames = selfFrames(jfr, from, to);
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    /** Thread group -> its share of the CPU of all threads, largest first (empty without /proc). */
    Map<String, Double> threadShares() {
        return shares;
    }

    /** The n methods most often on top of a sampled stack, as "Class.method" -> share of all samples, most first. */
    Map<String, Double> topFrames(int n) {
        Map<String, Double> top = new LinkedHashMap<>();
        frames.entrySet().stream().limit(n).forEach(e -> top.put(e.getKey(), e.getValue()));
        return top;
    }

    private synchronized void poll() {
        if (!Files.isDirectory(TASKS)) {
            return;
        }
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(t.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended between the listing and the read
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String[] f = stat.substring(close + 2).split(" ");
                long cpu = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime, in clock ticks
                String tid = t.getFileName().toString();
                ticks.computeIfAbsent(tid, k -> new long[] {cpu, cpu})[1] = cpu;
                names.put(tid, stat.substring(open + 1, close));
            }
        } catch (IOException e) {
            // /proc went away: keep what was read
        }
    }

    private synchronized Map<String, Double> groupShares() {
        Map<String, Long> byGroup = new HashMap<>();
        long total = 0;
        for (Map.Entry<String, long[]> e : ticks.entrySet()) {
            long used = e.getValue()[1] - e.getValue()[0];
            byGroup.merge(group(names.get(e.getKey())), used, Long::sum);
            total += used;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        long all = Math.max(total, 1);
        byGroup.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), (double) e.getValue() / all));
        return out;
    }

    /**
     * A thread's group from its kernel name (the first 15 characters of the Java name): the Flink task threads are
     * named after their operator chain, the Kafka clients and the JVM's own threads by role.
     */
    static String group(String comm) {
        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
            return JIT;
        }
        if (comm.startsWith("GC Thread") || comm.matches("G1 .*") || comm.startsWith("VM Thread")) {
            return "garbage collector";
        }
        if (comm.startsWith("Source: ")) {
            return "task: source chain";
        }
        if (comm.startsWith("kafka-producer-")) {
            return "kafka producer i/o";
        }
        if (comm.startsWith("Source Data Fet")) {
            return "kafka source fetcher";
        }
        if (comm.startsWith("kafka-")) {
            return "kafka other";
        }
        if (comm.startsWith("flink-") || comm.startsWith("jobmanager") || comm.startsWith("mini-cluster")
                || comm.startsWith("Checkpoint") || comm.startsWith("AsyncOperations")
                || comm.startsWith("SourceCoordinat")) {
            return "flink runtime";
        }
        if (comm.startsWith("bench-profile") || comm.startsWith("JFR ")) {
            return "profiler";
        }
        return "other";
    }

    private static Map<String, Double> selfFrames(Path jfr, Instant from, Instant to) throws IOException {
        Map<String, Long> counts = new HashMap<>();
        long total = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            RecordedStackTrace st = e.getStackTrace();
            if (!"jdk.ExecutionSample".equals(e.getEventType().getName()) || st == null || st.getFrames().isEmpty()
                    || e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
                continue;
            }
            RecordedFrame top = st.getFrames().get(0);
            String cls = top.getMethod().getType().getName();
            counts.merge(cls.substring(cls.lastIndexOf('.') + 1) + "." + top.getMethod().getName(), 1L, Long::sum);
            total++;
        }
        long all = Math.max(total, 1);
        Map<String, Double> shares = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> shares.put(e.getKey(), (double) e.getValue() / all));
        return shares;
    }
}
