package dev.d2v.train.optim;

import ai.djl.ndarray.types.Shape;
import java.util.Locale;

/**
 * AdamW parameter groups, as fairseq's data2vec optimizer settings: no weight decay for biases, norm parameters and any parameter of at most
 * one dimension (cls token vectors, scales); decay for weight matrices and kernels.
 */
public final class WeightDecayRule {

    private WeightDecayRule() {}

    /** True when the parameter with this name and shape gets weight decay. */
    public static boolean decays(String name, Shape shape) {
        if (shape.dimension() <= 1) {
            return false;
        }
        String n = name.toLowerCase(Locale.ROOT);
        return !(n.endsWith("bias") || n.contains("norm") || n.endsWith("gamma") || n.endsWith("beta"));
    }

    /** The decay to apply: weightDecay or 0. */
    public static double decayFor(String name, Shape shape, double weightDecay) {
        return decays(name, shape) ? weightDecay : 0.0;
    }
}
