package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.loop.LoopSettings;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * How the continuous trainer consumes, checkpoints and stops.
 *
 * @param weights         modality -> slots per round-robin cycle (image 2, audio 1: two image steps per audio step);
 *                        only the modalities named here are consumed
 * @param maxWait         how long a modality's turn waits for a batch before the next modality gets it; bounded so
 *                        that an idle topic never stalls the others (200 ms: far above a decode, far below a step)
 * @param queueCapacity   decoded minibatches held per modality by the prefetch thread: bounded memory (4 x 16 MB
 *                        records at most per modality), and enough to hide one poll round trip
 * @param checkpointEvery steps between checkpoints (1000: minutes of work on a GPU; 0 = by time only)
 * @param checkpointInterval wall time between checkpoints (10 min bounds the work a crash loses; null = by steps only)
 * @param retention       which step folders to keep (last 3, and every 10000th step for later comparison)
 * @param rollbackAfter   consecutive non-finite steps that roll the model back to the last checkpoint (5: one bad
 *                        batch is skipped and counted, a run of them means the state itself has diverged)
 * @param targetStep      stop once the trainer has done this many steps in total (Long.MAX_VALUE: run until stopped)
 * @param idleStop        stop after no batch arrived for this long (null: wait forever, the service default)
 * @param timeBudget      stop (with a checkpoint) after this much wall time of the run (null: none)
 */
public record StreamSettings(Map<Modality, Integer> weights, Duration maxWait, int queueCapacity, long checkpointEvery,
                             Duration checkpointInterval, RetentionPolicy retention, int rollbackAfter, long targetStep,
                             Duration idleStop, Duration timeBudget) {

    public StreamSettings {
        weights = new LoopSettings(weights, maxWait, targetStep, timeBudget, idleStop).weights();  // the loop's checks
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queueCapacity must be >= 1, got " + queueCapacity);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("checkpointEvery must be >= 0 (0 = by time only), got " + checkpointEvery);
        }
        if (rollbackAfter < 1) {
            throw new IllegalArgumentException("rollbackAfter must be >= 1, got " + rollbackAfter);
        }
        if (retention == null) {
            throw new IllegalArgumentException("retention is required");
        }
    }

    /** The service defaults for these modalities, each with weight 1. */
    public static StreamSettings defaults(Iterable<Modality> modalities) {
        Map<Modality, Integer> w = new EnumMap<>(Modality.class);
        modalities.forEach(m -> w.put(m, 1));
        return new StreamSettings(w, Duration.ofMillis(200), 4, 1000, Duration.ofMinutes(10),
                new RetentionPolicy(3, 10_000), 5, Long.MAX_VALUE, null, null);
    }

    public StreamSettings withWeights(Map<Modality, Integer> w) {
        return new StreamSettings(w, maxWait, queueCapacity, checkpointEvery, checkpointInterval, retention, rollbackAfter,
                targetStep, idleStop, timeBudget);
    }

    public StreamSettings withCheckpoints(long everySteps, Duration interval, RetentionPolicy keep) {
        return new StreamSettings(weights, maxWait, queueCapacity, everySteps, interval, keep, rollbackAfter, targetStep,
                idleStop, timeBudget);
    }

    public StreamSettings withStop(long target, Duration idle) {
        return new StreamSettings(weights, maxWait, queueCapacity, checkpointEvery, checkpointInterval, retention,
                rollbackAfter, target, idle, timeBudget);
    }

    public StreamSettings withTimeBudget(Duration budget) {
        return new StreamSettings(weights, maxWait, queueCapacity, checkpointEvery, checkpointInterval, retention,
                rollbackAfter, targetStep, idleStop, budget);
    }

    /** The loop's share: turns, waits and stop conditions. */
    public LoopSettings loop() {
        return new LoopSettings(weights, maxWait, targetStep, timeBudget, idleStop);
    }

    public StreamSettings withPrefetch(int capacity, Duration wait) {
        return new StreamSettings(weights, wait, capacity, checkpointEvery, checkpointInterval, retention, rollbackAfter,
                targetStep, idleStop, timeBudget);
    }

    public StreamSettings withRollbackAfter(int n) {
        return new StreamSettings(weights, maxWait, queueCapacity, checkpointEvery, checkpointInterval, retention, n,
                targetStep, idleStop, timeBudget);
    }
}
