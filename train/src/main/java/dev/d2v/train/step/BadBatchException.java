package dev.d2v.train.step;

import dev.d2v.infra.Modality;
import java.util.Objects;

/**
 * A minibatch that the model cannot train on: the wrong dtype or shape for its local encoder, token ids outside the
 * vocabulary, a non-finite value, a sample id twice. The trainer sends it to the dead-letter topic with stage
 * {@code train.<modality>.<reason>} and goes on with the next batch, so one bad record cannot stop a run.
 *
 * <p>Reasons (stable codes, documented in train/TRAIN.md, "Bad batches"): {@value #DTYPE}, {@value #SHAPE},
 * {@value #TOKEN_RANGE}, {@value #NON_FINITE}, {@value #DUPLICATE_IDS}, {@value #NO_ENCODER}.
 */
public final class BadBatchException extends IllegalArgumentException {

    public static final String DTYPE = "dtype";
    public static final String SHAPE = "shape";
    public static final String TOKEN_RANGE = "token-range";
    public static final String NON_FINITE = "non-finite";
    public static final String DUPLICATE_IDS = "duplicate-ids";
    public static final String NO_ENCODER = "no-encoder";

    private final String reason;

    public BadBatchException(String reason, String message) {
        super(reason + ": " + message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Short stable code, e.g. "token-range". */
    public String reason() {
        return reason;
    }

    /** The dead-letter stage of a batch of modality m refused for this reason. */
    public String stage(Modality m) {
        return "train." + m.id() + "." + reason;
    }
}
