package dev.d2v.evaluate.follow;

import java.io.IOException;

/**
 * Kafka did not answer while the follower published results or committed its position: not the checkpoint's fault.
 * The follower leaves the checkpoint started (never rejected), waits and tries again (evaluating it once more; the
 * features are cached), and does not exit.
 */
public final class KafkaUnavailableException extends IOException {

    public KafkaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
