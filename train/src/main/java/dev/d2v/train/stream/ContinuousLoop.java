package dev.d2v.train.stream;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The continuous training loop: take the next minibatch in weighted round-robin order, one trainer step, advance the
 * consumed offset of its partition, checkpoint every N steps, every T minutes and when stopped. Metrics, progress and
 * the trained-sample log hang off it as listeners (STYLE 5).
 *
 * <p>Offsets: a checkpoint holds, per topic-partition, the offset after the last record TRAINED (or dead-lettered),
 * never one merely prefetched, so a restart from it trains every later batch exactly once and no earlier one again.
 * A run that dies between checkpoints (kill -9) retrains the batches after its last checkpoint, with the same
 * result: masks and noise are functions of (seed, step).
 *
 * <p>Failures: a non-finite loss skips the update (the trainer counts it); {@link StreamSettings#rollbackAfter()} of
 * them in a row restore the newest checkpoint's model, optimizer and counters, while the data position keeps moving
 * forward (the batches that diverged would diverge again). A record that does not decode goes to the dead-letter sink
 * and is skipped. No batch at all only waits: the source keeps reconnecting.
 */
public final class ContinuousLoop {

    /**
     * Where the loop reports to.
     *
     * @param listeners    after every step (metrics, progress, the trained-sample log)
     * @param deadLetters  records that did not decode (to d2v.deadletter)
     * @param checkpointed after every checkpoint written (the d2v.checkpoints event)
     * @param log          one-line messages
     */
    public record Hooks(List<Consumer<TrainedStep>> listeners, Consumer<DeadLetter> deadLetters,
                        Consumer<CheckpointEvent> checkpointed, Consumer<String> log) {
        public Hooks {
            listeners = List.copyOf(listeners);
        }

        public static Hooks quiet() {
            return new Hooks(List.of(), d -> {}, e -> {}, s -> {});
        }

        public Hooks withListeners(List<Consumer<TrainedStep>> more) {
            java.util.ArrayList<Consumer<TrainedStep>> all = new java.util.ArrayList<>(listeners);
            all.addAll(more);
            return new Hooks(all, deadLetters, checkpointed, log);
        }
    }

    /** How the loop ended, and what it did. */
    public record Outcome(long stepsThisRun, String reason, CheckpointEvent lastCheckpoint, long deadLetters,
                          long rollbacks, long checkpoints, double dataWaitFraction, double samplesPerSecond) {}

    private ContinuousLoop() {}

    /**
     * Resumes t from the newest valid checkpoint under root (a corrupt newer one is reported to log and skipped) and
     * returns its consumed offsets, "topic:partition" -> next offset; empty offsets for a fresh start.
     */
    public static Map<String, Long> resume(Trainer t, Path root, Consumer<String> log) throws IOException {
        for (CheckpointStore.Rejected r : CheckpointStore.newestValid(root).rejected()) {
            Path aside = moveAside(r.folder());
            log.accept("checkpoint " + r.folder().getFileName() + " is not usable (" + r.reason() + "); moved to "
                    + aside.getFileName() + ", resuming from the previous one");
        }
        try (NDManager scratch = NDManager.newBaseManager(device(t))) {
            return TrainerCheckpoints.resumeNewest(t, root, scratch, log)
                    .map(CheckpointManifest.DataPosition::offsets).orElse(Map.of());
        }
    }

    /**
     * Runs until the settings' target step, their idle time without data, or {@code stop} turns true; then
     * checkpoints (when anything was trained since the last one). An exception out of a listener or the trainer ends
     * the run without that checkpoint, as a crash would.
     *
     * @param offsets where the source started: the checkpoint's offsets (from {@link #resume})
     * @param run     the run settings stored in each checkpoint's config (topics, transforms)
     */
    public static Outcome run(Trainer t, BatchSource source, Map<String, Long> offsets, StreamSettings s,
                              Path checkpoints, JsonNode run, Hooks hooks, BooleanSupplier stop)
            throws IOException, InterruptedException {
        gradModeOffOnThisThread();
        RoundRobin turns = new RoundRobin(s.weights());
        Map<String, Long> consumed = new TreeMap<>(offsets);
        Rate rate = new Rate(20);
        Set<Modality> dry = EnumSet.noneOf(Modality.class);
        long startNs = System.nanoTime();
        long first = t.step();
        long lastCheckpointStep = t.step();
        long lastCheckpointNs = startNs;
        long lastDataNs = startNs;
        long waitNs = 0;
        long deadLetters = 0;
        long rollbacks = 0;
        long written = 0;
        int nonFiniteInRow = 0;
        CheckpointEvent last = null;
        String reason = "reached step " + s.targetStep();
        while (t.step() < s.targetStep()) {
            if (stop.getAsBoolean()) {
                reason = "stopped";
                break;
            }
            long w0 = System.nanoTime();
            Fetched f = take(source, turns.turnOrder(t.step()), s, dry);
            long waited = System.nanoTime() - w0;
            waitNs += waited;
            if (f == null) {
                if (s.idleStop() != null && System.nanoTime() - lastDataNs >= s.idleStop().toNanos()) {
                    reason = "no data for " + s.idleStop().toSeconds() + " s";
                    break;
                }
                continue;
            }
            lastDataNs = System.nanoTime();
            if (f.failure() != null) {
                hooks.deadLetters().accept(f.failure());
                consumed.put(f.offsetKey(), f.offset() + 1);
                deadLetters++;
                hooks.log().accept("dead-lettered " + f.offsetKey() + "@" + f.offset() + ": " + f.failure().errorMessage());
                continue;
            }
            StepResult r = t.step(f.batch());
            consumed.put(f.offsetKey(), f.offset() + 1);
            long now = System.nanoTime();
            rate.add(now, r.samples());
            long created = f.batch().createdAtMs();
            TrainedStep ts = new TrainedStep(r, f, waited / 1e6, waitNs / (double) Math.max(1, now - startNs),
                    source.lag(r.modality(), consumed), created > 0 ? System.currentTimeMillis() - created : -1,
                    rate.perSecond());
            for (Consumer<TrainedStep> l : hooks.listeners()) {
                l.accept(ts);
            }
            nonFiniteInRow = r.applied() ? 0 : nonFiniteInRow + 1;
            if (nonFiniteInRow >= s.rollbackAfter()) {
                nonFiniteInRow = 0;
                if (rollback(t, checkpoints, hooks.log())) {
                    rollbacks++;
                    lastCheckpointStep = t.step();
                }
                continue;
            }
            boolean bySteps = s.checkpointEvery() > 0 && t.step() - lastCheckpointStep >= s.checkpointEvery();
            boolean byTime = s.checkpointInterval() != null && now - lastCheckpointNs >= s.checkpointInterval().toNanos();
            if ((bySteps || byTime) && t.step() < s.targetStep()) {
                last = checkpoint(t, consumed, s, checkpoints, run, hooks);
                written++;
                lastCheckpointStep = t.step();
                lastCheckpointNs = System.nanoTime();
            }
        }
        if (t.step() != lastCheckpointStep) {   // the shutdown checkpoint
            last = checkpoint(t, consumed, s, checkpoints, run, hooks);
            written++;
        }
        double elapsed = Math.max(1, System.nanoTime() - startNs);
        return new Outcome(t.step() - first, reason, last, deadLetters, rollbacks, written, waitNs / elapsed,
                rate.overall(startNs));
    }

    /**
     * The first record of the modalities in turn order. A modality's turn waits at most maxWait; one that came up
     * empty on its last turn ("dry") is only looked at without waiting until it has data again, so an idle topic
     * costs its wait once, not every cycle. When every modality is dry, the turn's modality is waited on.
     */
    static Fetched take(BatchSource source, List<Modality> order, StreamSettings s, Set<Modality> dry)
            throws InterruptedException {
        boolean waited = false;
        for (Modality m : order) {
            boolean wasDry = dry.contains(m);
            Fetched f = source.poll(m, wasDry ? Duration.ZERO : s.maxWait());
            waited |= !wasDry;
            if (f != null) {
                dry.remove(m);
                return f;
            }
            dry.add(m);
        }
        if (!waited) {
            Fetched f = source.poll(order.get(0), s.maxWait());
            if (f != null) {
                dry.remove(order.get(0));
            }
            return f;
        }
        return null;
    }

    private static CheckpointEvent checkpoint(Trainer t, Map<String, Long> consumed, StreamSettings s, Path root,
                                              JsonNode run, Hooks hooks) throws IOException {
        CheckpointStore.Verified v = TrainerCheckpoints.save(t, root, run,
                new CheckpointManifest.DataPosition(consumed, Map.of()));
        CheckpointStore.prune(root, s.retention());
        CheckpointEvent e = event(v);
        hooks.log().accept("checkpoint " + v.folder() + " (step " + e.step() + ")");
        hooks.checkpointed().accept(e);
        return e;
    }

    /**
     * Renames a corrupt step folder to rejected-step-N-&lt;epoch ms&gt; (kept for inspection, out of the store's listing),
     * so that the resumed run can write that step again.
     */
    static Path moveAside(Path folder) throws IOException {
        Path aside = folder.resolveSibling("rejected-" + folder.getFileName() + "-" + System.currentTimeMillis());
        return java.nio.file.Files.move(folder, aside);
    }

    /** The d2v.checkpoints event of a written checkpoint. */
    public static CheckpointEvent event(CheckpointStore.Verified v) {
        CheckpointManifest m = v.manifest();
        return new CheckpointEvent(v.folder().getFileName().toString(), m.step(), m.samplesSeen(),
                m.dataPosition().offsets(), v.folder().toAbsolutePath().toString(),
                Long.parseUnsignedLong(m.configHash(), 16), Instant.parse(m.createdAt()));
    }

    /** Restores the newest valid checkpoint's model state, keeping the data position; false when there is none. */
    private static boolean rollback(Trainer t, Path root, Consumer<String> log) throws IOException {
        long from = t.step();
        Optional<Map<String, Long>> restored;
        try (NDManager scratch = NDManager.newBaseManager(device(t))) {
            restored = TrainerCheckpoints.resumeNewest(t, root, scratch, log)
                    .map(CheckpointManifest.DataPosition::offsets);
        }
        if (restored.isEmpty()) {
            log.accept("non-finite losses in a row at step " + from + " and no checkpoint to roll back to: continuing");
            return false;
        }
        log.accept("non-finite losses in a row at step " + from + ": rolled back to step " + t.step()
                + "; the data position moves on");
        return true;
    }

    /**
     * PyTorch's grad mode is per thread, and DJL switches it off only on the thread that loaded the engine; the
     * optimizer's in-place updates of leaf parameters fail under it ("a leaf Variable that requires grad is being used
     * in an in-place operation"). The loop may run on any thread (a service's worker, a test's executor).
     */
    static void gradModeOffOnThisThread() {
        if ("PyTorch".equals(ai.djl.engine.Engine.getInstance().getEngineName())) {
            ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        }
    }

    private static Device device(Trainer t) {
        return t.student().view().values().iterator().next().getDevice();
    }

    /** Samples per second of wall time over the last n steps. */
    private static final class Rate {
        private final int n;
        private final ArrayDeque<long[]> window = new ArrayDeque<>();
        private long total;

        Rate(int n) {
            this.n = n;
        }

        void add(long nanos, int samples) {
            window.addLast(new long[] {nanos, samples});
            total += samples;
            if (window.size() > n) {
                window.removeFirst();
            }
        }

        double perSecond() {
            if (window.size() < 2) {
                return 0;
            }
            long samples = window.stream().skip(1).mapToLong(a -> a[1]).sum();
            return samples * 1e9 / Math.max(1, window.getLast()[0] - window.getFirst()[0]);
        }

        double overall(long startNs) {
            return window.isEmpty() ? 0 : total * 1e9 / Math.max(1, window.getLast()[0] - startNs);
        }
    }
}
