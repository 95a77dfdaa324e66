package dev.d2v.preprocess.transform.audio;

/**
 * One example's features: values float[frames * mels], frame-major ((t, m) at t * mels + m), normalised
 * over the first validFrames frames; frames validFrames..frames-1 are zero padding (mask them).
 */
public record AudioFeatures(float[] values, int frames, int mels, int validFrames) {
    public AudioFeatures {
        if (values.length != frames * mels || validFrames < 1 || validFrames > frames) {
            throw new IllegalArgumentException("audio features shape mismatch: " + values.length + " values, "
                    + frames + " frames x " + mels + " mels, valid " + validFrames);
        }
    }
}
