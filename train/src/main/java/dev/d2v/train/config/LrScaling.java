package dev.d2v.train.config;

import dev.d2v.infra.Modality;
import java.util.Locale;
import java.util.Map;

/**
 * Per-modality learning rates from per-modality batch sizes (one learning rate for all would over-step the small batches): each modality has its own batch
 * size, and a step on a smaller batch is a noisier gradient, so it takes a proportionally smaller step. The scale
 * of modality m is rule(batch_m / reference): linear ({@code lr * batch / 256}, Goyal et al. 2017), square root
 * (often preferred for Adam), or none. The reference batch takes the schedule's own learning rate; by default it is
 * the largest enabled batch, so the preset's rate holds for the modality with the most samples per step and the
 * others scale down.
 */
public enum LrScaling {
    NONE, LINEAR, SQRT;

    /** "linear", "sqrt" or "none" (any case). */
    public static LrScaling parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("learning-rate scaling must be linear, sqrt or none, got '" + s + "'");
        }
    }

    /** The factor for a modality with {@code batch} samples per step against {@code reference}. */
    public double factor(int batch, int reference) {
        if (batch < 1 || reference < 1) {
            throw new IllegalArgumentException("batch sizes must be >= 1, got " + batch + " and reference " + reference);
        }
        double r = (double) batch / reference;
        return switch (this) {
            case NONE -> 1.0;
            case LINEAR -> r;
            case SQRT -> Math.sqrt(r);
        };
    }

    /**
     * {@code config} with each trained modality's lr_scale set from its batch size.
     *
     * @param batchSizes samples per minibatch of every trained modality
     * @param reference  the batch size that trains at the schedule's rate; 0 = the largest of batchSizes over the
     *                   trained modalities
     */
    public Data2VecConfig apply(Data2VecConfig config, Map<Modality, Integer> batchSizes, int reference) {
        int ref = reference;
        for (Modality m : config.modalities()) {
            Integer b = batchSizes.get(m);
            if (b == null) {
                throw new IllegalArgumentException("no batch size for " + m.id() + " (have " + batchSizes.keySet() + ")");
            }
            if (reference == 0) {
                ref = Math.max(ref, b);
            }
        }
        if (ref < 1) {
            throw new IllegalArgumentException("the reference batch size must be >= 1 (0 = the largest), got " + reference);
        }
        Data2VecConfig out = config;
        for (Modality m : config.modalities()) {
            out = out.with(m, config.modality(m).withLrScale(factor(batchSizes.get(m), ref)));
        }
        return out;
    }
}
