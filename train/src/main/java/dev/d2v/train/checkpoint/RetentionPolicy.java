package dev.d2v.train.checkpoint;

import java.util.Collection;
import java.util.Comparator;
import java.util.TreeSet;

/**
 * Which checkpoints survive pruning: the newest {@code keepLast} by step, plus every step that is a multiple of
 * {@code keepEvery} (a sparse history for the evaluation curves).
 *
 * @param keepLast  newest checkpoints kept: at least 1, so the one a restart resumes from is never deleted;
 *                  3 leaves two to fall back on when the newest turns out corrupt
 * @param keepEvery keep steps divisible by this as well (0 = none); step 0, the random-init checkpoint, is a
 *                  multiple of every M and so stays as the baseline
 */
public record RetentionPolicy(int keepLast, long keepEvery) {

    public RetentionPolicy {
        if (keepLast < 1) {
            throw new IllegalArgumentException("retention keepLast must be >= 1 (the newest checkpoint is what a restart"
                    + " resumes from), got " + keepLast);
        }
        if (keepEvery < 0) {
            throw new IllegalArgumentException("retention keepEvery must be >= 0 (0 = off), got " + keepEvery);
        }
    }

    public static RetentionPolicy defaults() {
        return new RetentionPolicy(3, 0);
    }

    /** The steps kept out of {@code steps}, ascending. */
    public TreeSet<Long> kept(Collection<Long> steps) {
        TreeSet<Long> kept = new TreeSet<>();
        steps.stream().distinct().sorted(Comparator.reverseOrder()).limit(keepLast).forEach(kept::add);
        if (keepEvery > 0) {
            steps.stream().filter(s -> s % keepEvery == 0).forEach(kept::add);
        }
        return kept;
    }
}
