package dev.d2v.preprocess.batch;

import dev.d2v.infra.wire.Minibatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Collects the transformed samples of one modality into minibatches of {@link BatchSpec#batchSize()}: a
 * full batch as soon as it is full, or the samples so far as a partial batch (marked {@code partial}) on
 * {@link #flush()} or once {@link BatchSpec#timeoutMs()} has passed since the batch's first sample.
 *
 * <p>Plain Java, one instance per key and thread. The Flink batcher keeps its pending samples in Flink
 * state and calls {@link #assemble} directly; this class is the same logic for in-process use (tests,
 * benchmarks, local pipelines).
 */
public final class BatchAssembler {

    private final BatchSpec spec;
    private final List<Sample> pending;
    private long firstAtMs = -1; // when the pending batch got its first sample, -1 = none pending

    public BatchAssembler(BatchSpec spec) {
        this.spec = spec;
        this.pending = new ArrayList<>(spec.batchSize());
    }

    public BatchSpec spec() {
        return spec;
    }

    /** Adds one sample at {@code nowMs}; returns the full batch when this sample completes it. */
    public Optional<Minibatch> add(Sample sample, long nowMs) {
        requireSize(spec, sample);
        if (pending.isEmpty()) {
            firstAtMs = nowMs;
        }
        pending.add(sample);
        return pending.size() >= spec.batchSize() ? Optional.of(drain()) : Optional.empty();
    }

    /** The pending samples as a partial batch (none pending: empty), e.g. at the end of a bounded input. */
    public Optional<Minibatch> flush() {
        return pending.isEmpty() ? Optional.empty() : Optional.of(drain());
    }

    /** The pending samples as a partial batch when their timeout has passed at {@code nowMs}. */
    public Optional<Minibatch> onTime(long nowMs) {
        OptionalLong deadline = deadlineMs();
        return deadline.isPresent() && nowMs >= deadline.getAsLong() ? flush() : Optional.empty();
    }

    /** When the pending batch times out: its first sample's time + timeout; empty when nothing is pending. */
    public OptionalLong deadlineMs() {
        return pending.isEmpty() ? OptionalLong.empty() : OptionalLong.of(firstAtMs + spec.timeoutMs());
    }

    public int pendingCount() {
        return pending.size();
    }

    private Minibatch drain() {
        Minibatch mb = assemble(spec, pending);
        pending.clear();
        firstAtMs = -1;
        return mb;
    }

    /**
     * Stacks samples into one minibatch: payload = the samples' payloads in order, shape
     * {@code [n, ...sampleShape]}; partial when n &lt; batchSize; labels only when some sample has one
     * (the others -1); createdAtMs = the newest sample's event time.
     *
     * @param samples 1..batchSize samples, each of {@code spec.sampleBytes()} bytes
     */
    public static Minibatch assemble(BatchSpec spec, List<Sample> samples) {
        int n = samples.size();
        if (n < 1 || n > spec.batchSize()) {
            throw new IllegalArgumentException("a " + spec.modality().id() + " batch holds 1.." + spec.batchSize()
                    + " samples, got " + n);
        }
        int rowBytes = spec.sampleBytes();
        byte[] payload = new byte[n * rowBytes];
        List<String> ids = new ArrayList<>(n);
        int[] valid = new int[n];
        int[] labels = new int[n];
        boolean anyLabel = false;
        long newest = 0;
        for (int i = 0; i < n; i++) {
            Sample s = samples.get(i);
            requireSize(spec, s);
            System.arraycopy(s.payload(), 0, payload, i * rowBytes, rowBytes);
            ids.add(s.sampleId());
            valid[i] = s.validLength();
            labels[i] = s.label();
            anyLabel |= s.label() >= 0;
            newest = Math.max(newest, s.eventTimeMs());
        }
        return new Minibatch(spec.modality(), spec.dtype(), BatchSpec.batchShape(spec.sampleShape(), n), ids, valid,
                anyLabel ? labels : null, n < spec.batchSize(), spec.configHash(), newest, payload);
    }

    private static void requireSize(BatchSpec spec, Sample s) {
        if (s.payload().length != spec.sampleBytes()) {
            throw new IllegalArgumentException("sample " + s.sampleId() + " has " + s.payload().length
                    + " payload bytes but a " + spec.modality().id() + " sample of " + spec + " needs " + spec.sampleBytes());
        }
    }
}
