package dev.d2v.evaluate.probe;

/**
 * Where the probes' arithmetic runs. Both compute the same protocol; they differ in summation order only (float
 * rounding), so a prediction differs only where two candidates are within ~1e-6 of each other.
 */
public enum ProbeBackend {
    /**
     * libtorch through DJL, the engine the encoder runs on: the softmax objective as two float32 GEMMs per row chunk,
     * k-NN as similarity GEMMs with top-k per query block. On a 2-core machine a 54k x 784 x 10 objective costs about
     * 0.09 CPU s against 0.3 for {@link #JAVA}; k-NN on 60k x 10k x 784, seconds against minutes.
     */
    TORCH,
    /** Plain Java float loops (the reference; no native memory). */
    JAVA
}
