package dev.d2v.infra.wire;

/** A record that does not decode: corrupt, truncated, or of a version this build does not know. */
public class WireFormatException extends RuntimeException {
    public WireFormatException(String message) {
        super(message);
    }

    public WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
