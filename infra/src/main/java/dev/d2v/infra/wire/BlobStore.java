package dev.d2v.infra.wire;

import java.io.Serializable;

/**
 * Where large minibatch payloads go (claim check): the Kafka record carries only the reference. Serializable
 * so that a Flink operator holding a codec with a store can be shipped to its task managers.
 */
public interface BlobStore extends Serializable {

    /** Stores {@code bytes} and returns a reference (printable ASCII, at most 1024 chars). Idempotent. */
    String put(byte[] bytes);

    /**
     * The bytes stored under {@code ref}.
     *
     * @throws WireFormatException when the reference is malformed, unknown, or its content fails its check
     * @throws java.io.UncheckedIOException when the store cannot be read
     */
    byte[] get(String ref);
}
