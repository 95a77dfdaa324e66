package dev.d2v.ingest.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The speakers of the spoken sets: every voice crossed with every variant, split by variant so that no
 * variant (timbre) is heard in both train and test.
 *
 * @param voices        espeak-ng English voices (accents)
 * @param variants      espeak-ng voice variants (files in espeak-ng-data/voices/!v)
 * @param testVariants  the held-out variants: their speakers form the test split, all others train
 */
public record SpeakerSet(List<String> voices, List<String> variants, List<String> testVariants) {

    /**
     * Seven English accents. Not en-gb: it ignores every variant and speaks identically (and "en" is the
     * same voice, whose variants do work). en-us-nyc differs from en-us only in some words (two, four, eight).
     */
    public static final List<String> DEFAULT_VOICES = List.of("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan",
            "en-gb-x-rp", "en-gb-x-gbcwmd", "en-us-nyc");

    /**
     * Eighteen plain timbres: male m1..m8, female f1..f5, Klatt synthesiser klatt..klatt5. klatt6 and caleb
     * are left out (byte-identical to klatt in espeak-ng 1.51); novelty variants (whisper, croak, robots)
     * too, to keep a few thousand clips of ordinary speech.
     */
    public static final List<String> DEFAULT_VARIANTS = List.of("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
            "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3", "klatt4", "klatt5");

    /** One male, one female and one Klatt variant held out: 21 test speakers, 105 train speakers. */
    public static final List<String> DEFAULT_TEST_VARIANTS = List.of("m3", "f2", "klatt4");

    public SpeakerSet {
        voices = List.copyOf(voices);
        variants = List.copyOf(variants);
        testVariants = List.copyOf(testVariants);
        if (voices.isEmpty()) {
            throw new IllegalArgumentException("speaker set needs at least one voice");
        }
        if (!variants.containsAll(testVariants)) {
            throw new IllegalArgumentException("test variants " + testVariants + " must be among variants "
                    + variants);
        }
        if (testVariants.isEmpty() || testVariants.size() == variants.size()) {
            throw new IllegalArgumentException("need at least one test variant and one train variant, got test "
                    + testVariants + " of " + variants);
        }
    }

    public static SpeakerSet defaults() {
        return new SpeakerSet(DEFAULT_VOICES, DEFAULT_VARIANTS, DEFAULT_TEST_VARIANTS);
    }

    /** voices x variants, voice-major, in list order. */
    public List<Speaker> all() {
        List<Speaker> out = new ArrayList<>();
        for (String voice : voices) {
            for (String variant : variants) {
                out.add(new Speaker(voice, variant));
            }
        }
        return out;
    }

    public boolean isTest(Speaker s) {
        return testVariants.contains(s.variant());
    }
}
