package dev.d2v.evaluate.features;

import java.io.IOException;

/** A feature cache file that cannot be used: corrupt, truncated, of an unknown version, or for another key. */
public final class FeatureFileException extends IOException {
    public FeatureFileException(String message) {
        super(message);
    }
}
