package dev.d2v.ingest.data;

import java.util.Random;

/**
 * How one clip is spoken and degraded. A speaker has a base pitch and speed (drawn once from the seed and the
 * speaker's name); each clip jitters around them and draws its own level, reverb and noise.
 *
 * @param pitch        espeak-ng -p, 0..99 (espeak default 50)
 * @param speed        espeak-ng -s, words per minute (espeak default 175)
 * @param amplitude    sox vol after peak normalisation: linear peak level, 0.3..0.9 (below 1: no clipping)
 * @param reverb       sox reverb reverberance in percent; 0 = no reverb
 * @param noise        linear level of white noise mixed under the raw speech; 0 = no noise
 * @param noiseOffset  samples of sox's repeatable noise stream skipped, so clips get different noise
 * @param leadMillis   silence before the speech, in milliseconds; 0 = none (what {@link #draw} gives)
 */
public record ClipStyle(int pitch, int speed, double amplitude, int reverb, double noise, int noiseOffset,
                        int leadMillis) {

    // Ranges: wide enough to vary speakers audibly, narrow enough that every digit stays intelligible.
    static final int BASE_PITCH_MIN = 25, BASE_PITCH_MAX = 75;
    static final int BASE_SPEED_MIN = 130, BASE_SPEED_MAX = 190;
    static final int PITCH_JITTER = 8;      // +- espeak pitch units per clip
    static final int SPEED_JITTER = 15;     // +- words per minute per clip
    static final double REVERB_SHARE = 0.3; // clips with reverb
    static final double NOISE_SHARE = 0.5;  // clips with added noise

    /** The style of clip {@code clipKey} by {@code speaker}; a pure function of its arguments. */
    public static ClipStyle draw(long seed, Speaker speaker, String clipKey) {
        Random base = SpokenSupport.random(seed, "speaker", speaker.name());
        int basePitch = between(base, BASE_PITCH_MIN, BASE_PITCH_MAX);
        int baseSpeed = between(base, BASE_SPEED_MIN, BASE_SPEED_MAX);
        Random r = SpokenSupport.random(seed, "clip", speaker.name(), clipKey);
        int pitch = Math.max(0, Math.min(99, basePitch + between(r, -PITCH_JITTER, PITCH_JITTER)));
        int speed = Math.max(80, baseSpeed + between(r, -SPEED_JITTER, SPEED_JITTER));
        double amplitude = 0.3 + 0.6 * r.nextDouble();
        int reverb = r.nextDouble() < REVERB_SHARE ? between(r, 20, 60) : 0;
        double noise = r.nextDouble() < NOISE_SHARE ? 0.005 + 0.025 * r.nextDouble() : 0;
        int noiseOffset = r.nextInt(1 << 16);
        return new ClipStyle(pitch, speed, amplitude, reverb, noise, noiseOffset, 0);
    }

    /** This style with {@code millis} of silence before the speech. */
    public ClipStyle withLead(int millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("lead must be >= 0 ms, got " + millis);
        }
        return new ClipStyle(pitch, speed, amplitude, reverb, noise, noiseOffset, millis);
    }

    private static int between(Random r, int lo, int hi) {
        return lo + r.nextInt(hi - lo + 1);
    }
}
