package dev.d2v.preprocess.batch;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * What the batcher of one modality builds: {@code [batchSize, ...sampleShape]} of {@code dtype}, stamped
 * with the preprocessing config hash, and how long it waits before it sends a partial batch.
 *
 * @param modality   which encoder the batches feed
 * @param dtype      wire dtype of every sample's payload
 * @param sampleShape one sample's dims (image {@code [C, H, W]}, audio {@code [T, mels]}, text {@code [L]})
 * @param batchSize  samples per full batch, set per modality in configuration (PipelineConfig.Batch: image 256,
 *                   audio 64, text 64): neighbouring image patches repeat each other, so an image carries less
 *                   signal per token and more images per batch pay off, while an audio clip or text block is a
 *                   longer, denser sequence; data2vec 2.0 (Baevski et al. 2022) likewise sizes each modality's
 *                   batch on its own
 * @param timeoutMs  a batch still short this long after its first sample is sent as it is, marked partial:
 *                   a slow stream keeps the trainer fed without tiny batches when data flows
 * @param configHash the preprocessing config hash carried by every batch (the trainer refuses a mismatch)
 */
public record BatchSpec(Modality modality, DType dtype, int[] sampleShape, int batchSize, long timeoutMs,
                        long configHash) implements Serializable {

    /** Partial-batch timeout when none is given: 5 s is short next to a training step on a slow stream. */
    public static final long DEFAULT_TIMEOUT_MS = 5_000;

    public BatchSpec {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(dtype, "dtype");
        sampleShape = sampleShape.clone();
        if (sampleShape.length < 1 || sampleShape.length >= Minibatch.MAX_RANK) {
            throw new IllegalArgumentException("sample shape must have rank 1.." + (Minibatch.MAX_RANK - 1)
                    + ", got " + Arrays.toString(sampleShape));
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException(modality.id() + " batch size must be >= 1, got " + batchSize);
        }
        if (timeoutMs < 1) {
            throw new IllegalArgumentException(modality.id() + " partial-batch timeout must be >= 1 ms, got " + timeoutMs);
        }
        Minibatch.payloadBytes(batchShape(sampleShape, batchSize), dtype); // checks dims and size
    }

    /** The modality's batch size from configuration, the default timeout. */
    public static BatchSpec of(Modality modality, DType dtype, int[] sampleShape, PipelineConfig.Batch sizes, long configHash) {
        return new BatchSpec(modality, dtype, sampleShape, sizes.of(modality), DEFAULT_TIMEOUT_MS, configHash);
    }

    public BatchSpec withBatchSize(int n) {
        return new BatchSpec(modality, dtype, sampleShape, n, timeoutMs, configHash);
    }

    public BatchSpec withTimeoutMs(long ms) {
        return new BatchSpec(modality, dtype, sampleShape, batchSize, ms, configHash);
    }

    @Override
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    /** Bytes of one sample's payload: product(sampleShape) * dtype width. */
    public int sampleBytes() {
        int n = dtype.width();
        for (int d : sampleShape) {
            n *= d;
        }
        return n;
    }

    /** {@code [b, ...sampleShape]}. */
    static int[] batchShape(int[] sampleShape, int b) {
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = b;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchSpec s && modality == s.modality && dtype == s.dtype
                && Arrays.equals(sampleShape, s.sampleShape) && batchSize == s.batchSize
                && timeoutMs == s.timeoutMs && configHash == s.configHash;
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(modality, dtype, batchSize, timeoutMs, configHash) + Arrays.hashCode(sampleShape);
    }

    @Override
    public String toString() {
        return "BatchSpec[" + modality.id() + " " + dtype + " " + Arrays.toString(sampleShape) + " x " + batchSize
                + ", timeout " + timeoutMs + " ms, configHash=" + Long.toHexString(configHash) + "]";
    }
}
