package dev.d2v.evaluate.follow;

import java.util.Locale;

/** Which waiting checkpoints the follower evaluates. */
public enum FollowPolicy {
    /** every checkpoint, oldest first: complete curves, but the evaluator may fall ever further behind */
    EACH,
    /**
     * when several are waiting, only the newest; the others (and any older than the newest already evaluated) are
     * recorded as superseded: the report stays current when evaluation is slower than checkpointing
     */
    NEWEST;

    /** Parses "each" or "newest" (any case). */
    public static FollowPolicy parse(String s) {
        for (FollowPolicy p : values()) {
            if (p.name().equalsIgnoreCase(s.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown follow policy '" + s + "': expected each or newest");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
