package dev.d2v.train.config;

/** Geometry of the mask (data2vec 2.0): image blocks on the patch grid, audio spans, text single tokens. */
public enum MaskKind {
    /** len x len blocks on the (H, W) patch grid. */
    BLOCK_2D,
    /** spans of len frames on the time axis. */
    SPAN_1D,
    /** independent tokens (a span of length 1). */
    RANDOM
}
