package dev.d2v.preprocess.transform;

/** TRAIN applies seeded random augmentation (crops, flips); EVAL is deterministic with no randomness. */
public enum Mode {
    TRAIN,
    EVAL
}
