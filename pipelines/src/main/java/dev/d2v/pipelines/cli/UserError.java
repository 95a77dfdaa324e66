package dev.d2v.pipelines.cli;

/** A failure the user can act on; printed without a stack trace, exit code 2. */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
