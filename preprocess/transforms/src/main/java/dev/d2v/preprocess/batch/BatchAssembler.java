package dev.d2v.preprocess.batch;

import dev.d2v.infra.wire.Minibatch;
import java.util.ArrayList;
import java.util.List;

/**
 * The one way samples become a {@link Minibatch}: the Flink batcher stacks the pending samples it keeps in keyed
 * state (full, or partial on its timeout or at the end of a bounded input), the offline loader
 * ({@code LocalBatches}) the samples of its epoch order.
 */
public final class BatchAssembler {

    private BatchAssembler() {
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
