package dev.d2v.train.config;

/** Norm applied to the averaged teacher layers (data2vec 2.0 target construction). */
public enum FinalNorm {
    /** per token over D, no affine (image) */
    LAYER_NORM,
    /** audio and text */
    NONE
}
