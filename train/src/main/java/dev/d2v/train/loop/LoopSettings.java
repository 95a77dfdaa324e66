package dev.d2v.train.loop;

import dev.d2v.infra.Modality;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Which batches the loop takes and when it stops.
 *
 * @param weights    modality -> slots per round-robin cycle (image 2, audio 1: two image steps per audio step); only
 *                   the modalities named here are taken
 * @param maxWait    how long a modality's turn waits for a batch before the next modality gets it; bounded so that an
 *                   idle topic never stalls the others
 * @param targetStep stop once the trainer has done this many steps in total (a resumed run continues to it;
 *                   Long.MAX_VALUE: no target)
 * @param timeBudget wall time of this run (null: none)
 * @param idleStop   stop after no batch arrived for this long (null: wait forever)
 */
public record LoopSettings(Map<Modality, Integer> weights, Duration maxWait, long targetStep, Duration timeBudget,
                           Duration idleStop) {

    public LoopSettings {
        if (weights == null || weights.isEmpty()) {
            throw new IllegalArgumentException("at least one modality must be enabled (weights is empty)");
        }
        weights.forEach((m, w) -> {
            if (w == null || w < 1) {
                throw new IllegalArgumentException("weight of " + m.id() + " must be >= 1, got " + w);
            }
        });
        weights = Collections.unmodifiableMap(new EnumMap<>(weights));
        if (maxWait == null || maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must be >= 0, got " + maxWait);
        }
        if (targetStep < 0) {
            throw new IllegalArgumentException("targetStep must be >= 0, got " + targetStep);
        }
    }
}
