package dev.d2v.preprocess.transform;

import java.util.Objects;

/**
 * A record that no transform can turn into a training sample: corrupt, truncated, empty or too large.
 * The Flink jobs route it to the dead-letter topic with {@link #reason()} as a short, stable code
 * (metrics and alerts group by it) and the message as the human explanation.
 */
public final class BadRecordException extends RuntimeException {

    public static final String EMPTY = "empty";
    public static final String OVERSIZED = "oversized";
    public static final String UNDECODABLE_IMAGE = "undecodable-image";
    public static final String IMAGE_TOO_LARGE = "image-too-large";
    public static final String NOT_WAV = "not-wav";
    public static final String UNSUPPORTED_AUDIO = "unsupported-audio";
    public static final String TRUNCATED_AUDIO = "truncated-audio";
    /** A WAV whose sample rate or duration no real recording has (1 Hz, 1 MHz, hours in one record). */
    public static final String IMPLAUSIBLE_AUDIO = "implausible-audio";
    /** A float WAV with NaN or infinite samples: its log-mel would be NaN. */
    public static final String NON_FINITE_AUDIO = "non-finite-audio";
    public static final String INVALID_UTF8 = "invalid-utf8";
    /** Any other exception a decoder threw on a record's bytes, one the transforms did not classify. */
    public static final String ERROR = "error";

    private final String reason;

    public BadRecordException(String reason, String message) {
        this(reason, message, null);
    }

    public BadRecordException(String reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Short stable code, e.g. "truncated-audio". */
    public String reason() {
        return reason;
    }

    /**
     * The reason code of a record's failure, for the tools that skip a bad input and go on (local batches, the
     * ONNX encoder's {@code embed}): this exception's own code, {@link #ERROR} for any other.
     */
    public static String reasonOf(RuntimeException e) {
        return e instanceof BadRecordException b ? b.reason() : ERROR;
    }

    /** The message reported with {@link #reasonOf}: this exception's, else the other's class and message. */
    public static String messageOf(RuntimeException e) {
        return e instanceof BadRecordException ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** Rejects null/empty input and input above maxBytes, before any parsing. */
    public static void checkSize(byte[] bytes, long maxBytes, String what) {
        if (bytes == null || bytes.length == 0) {
            throw new BadRecordException(EMPTY, what + " record has no bytes");
        }
        if (bytes.length > maxBytes) {
            throw new BadRecordException(OVERSIZED, what + " record has " + bytes.length
                    + " bytes, above the configured maxBytes " + maxBytes + " (raise it in the transform config)");
        }
    }
}
