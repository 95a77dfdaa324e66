package dev.d2v.train.model;

import java.util.Locale;

/**
 * Which outputs of a frozen encoder make its probe features, each mean-pooled over the real tokens (the image CLS slot
 * excluded).
 *
 * <p>{@link #LAST} is the pooled feature of the reference implementation and of MAE's fine-tuning head: the last
 * block's output. {@link #LAYERS} concatenates the local encoder's output with the last {@value #LAYER_BLOCKS} blocks'
 * outputs, as frozen-feature evaluations of self-supervised encoders do: DINO's linear evaluation of ViT-S reads the
 * last four blocks (Caron et al. 2021), BERT's feature-based tagging the last four layers (Devlin et al. 2019),
 * ELMo and SUPERB every layer including the input embedding (Peters et al. 2018; Yang et al. 2021). A data2vec
 * student's last block is the decoder's input, shaped by the regression of its targets; the layers below and the local
 * encoder keep what the task of a probe may need and the last block gives up, such as which tokens occur (see the
 * README's "Quality"). The {@link #LAST} part comes last in the {@link #LAYERS} vector, so that a k-NN can read it
 * alone, as DINO's k-NN reads the final output.
 */
public enum Readout {
    LAST("last"),
    LAYERS("layers");

    /** The blocks that {@link #LAYERS} reads, counted from the top (fewer when the trunk is shallower). */
    public static final int LAYER_BLOCKS = 4;

    private final String id;

    Readout(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The blocks read from the top of a path of {@code blocks} main blocks. */
    public int blocks(int blocks) {
        return this == LAST ? 1 : Math.min(LAYER_BLOCKS, blocks);
    }

    /** Width of the feature vector for model width d and a path of {@code blocks} main blocks. */
    public int dim(int d, int blocks) {
        return this == LAST ? d : d * (1 + blocks(blocks));
    }

    /** By its id, "last" or "layers". */
    public static Readout parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (Readout r : values()) {
            if (r.id.equals(k)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown readout '" + s + "': expected last or layers");
    }

    @Override
    public String toString() {
        return id;
    }
}
