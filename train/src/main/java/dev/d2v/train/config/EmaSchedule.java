package dev.d2v.train.config;

/** Shape of the tau anneal: cosine, or the reference's linear. */
public enum EmaSchedule {
    COSINE,
    LINEAR
}
