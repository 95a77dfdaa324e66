package dev.d2v.evaluate.finetune;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The labelled samples of a list of minibatches (a probe task's split) as one indexed set, from which
 * {@link #select} cuts a minibatch of any rows in the same wire format: fine-tuning re-batches the probe task's
 * evaluation batches into shuffled training batches without decoding anything twice.
 */
public final class Samples {

    private final List<Minibatch> batches;
    private final int[] batchOf;   // sample -> index into batches
    private final int[] rowOf;     // sample -> row within its batch
    private final int[] labels;    // sample -> class id
    private final int[] valid;     // sample -> valid length along axis 1
    private final Modality modality;
    private final DType dtype;
    private final int[] sampleShape;
    private final int bytesPerSample;

    private Samples(List<Minibatch> batches, int[] batchOf, int[] rowOf, int[] labels, int[] valid) {
        this.batches = batches;
        this.valid = valid;
        this.batchOf = batchOf;
        this.rowOf = rowOf;
        this.labels = labels;
        Minibatch first = batches.get(0);
        this.modality = first.modality();
        this.dtype = first.dtype();
        this.sampleShape = Arrays.copyOfRange(first.shape(), 1, first.rank());
        this.bytesPerSample = first.elementsPerSample() * first.dtype().width();
    }

    /**
     * Indexes every sample of batches, which must share modality, dtype and per-sample shape and carry a label
     * in [0, numClasses) for every sample.
     */
    public static Samples of(List<Minibatch> batches, int numClasses) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("fine-tuning needs at least one labelled training batch, got none");
        }
        Minibatch first = batches.get(0);
        int[] shape = Arrays.copyOfRange(first.shape(), 1, first.rank());
        int n = batches.stream().mapToInt(Minibatch::batchSize).sum();
        int[] batchOf = new int[n];
        int[] rowOf = new int[n];
        int[] labels = new int[n];
        int[] valid = new int[n];
        int s = 0;
        for (int b = 0; b < batches.size(); b++) {
            Minibatch mb = batches.get(b);
            int[] bs = Arrays.copyOfRange(mb.shape(), 1, mb.rank());
            if (mb.modality() != first.modality() || mb.dtype() != first.dtype() || !Arrays.equals(bs, shape)) {
                throw new IllegalArgumentException("batch " + b + " holds " + mb.modality().id() + " " + mb.dtype() + " "
                        + Arrays.toString(bs) + " samples, batch 0 " + first.modality().id() + " " + first.dtype() + " "
                        + Arrays.toString(shape) + ": fine-tuning needs one sample shape");
            }
            int[] y = mb.labels();
            if (y == null) {
                throw new IllegalArgumentException("batch " + b + " carries no labels: fine-tuning needs labelled batches");
            }
            int[] v = mb.validLengths();
            for (int r = 0; r < mb.batchSize(); r++, s++) {
                if (y[r] < 0 || y[r] >= numClasses) {
                    throw new IllegalArgumentException("sample " + mb.sampleIds().get(r) + " has label " + y[r]
                            + ", expected a class id in [0, " + numClasses + ")");
                }
                batchOf[s] = b;
                rowOf[s] = r;
                labels[s] = y[r];
                valid[s] = v[r];
            }
        }
        return new Samples(List.copyOf(batches), batchOf, rowOf, labels, valid);
    }

    public int size() {
        return labels.length;
    }

    /** Class ids in sample order (batch order, then row). */
    public int[] labels() {
        return labels.clone();
    }

    public Modality modality() {
        return modality;
    }

    /**
     * The samples order[from..to) as one minibatch: payload rows, sample ids, valid lengths and labels copied in
     * that order.
     */
    public Minibatch select(int[] order, int from, int to) {
        int b = to - from;
        if (b <= 0) {
            throw new IllegalArgumentException("empty selection [" + from + ", " + to + ")");
        }
        byte[] payload = new byte[b * bytesPerSample];
        List<String> ids = new ArrayList<>(b);
        int[] lengths = new int[b];
        int[] y = new int[b];
        for (int i = 0; i < b; i++) {
            int s = order[from + i];
            Minibatch src = batches.get(batchOf[s]);
            int r = rowOf[s];
            System.arraycopy(src.payload(), r * bytesPerSample, payload, i * bytesPerSample, bytesPerSample);
            ids.add(src.sampleIds().get(r));
            lengths[i] = valid[s];
            y[i] = labels[s];
        }
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = b;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return Minibatch.builder(modality, shape).sampleIds(ids).validLengths(lengths).labels(y).payload(dtype, payload);
    }

    /** A permutation of 0..n-1, a pure function of (seed, epoch): Fisher-Yates over SplittableRandom. */
    public static int[] permutation(int n, long seed, long epoch) {
        SplittableRandom r = new SplittableRandom(seed * 0x9e3779b97f4a7c15L + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
