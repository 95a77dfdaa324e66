package dev.d2v.ingest.data;

/**
 * One synthetic speaker: an espeak-ng voice (accent) with a voice variant (timbre), spoken as
 * {@code espeak-ng -v voice+variant}.
 */
public record Speaker(String voice, String variant) {

    public Speaker {
        if (voice.isBlank() || variant.isBlank() || voice.contains("+") || variant.contains("+")) {
            throw new IllegalArgumentException("speaker needs a voice and a variant without '+': '" + voice
                    + "', '" + variant + "'");
        }
    }

    /** "en-us+m3": the espeak-ng -v argument, and the prefix of this speaker's file names. */
    public String name() {
        return voice + "+" + variant;
    }
}
