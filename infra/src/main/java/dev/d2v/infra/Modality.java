package dev.d2v.infra;

import java.util.Locale;

/** The three input modalities; each has its own raw and batch topic. The wire id is stable forever. */
public enum Modality {
    IMAGE(1, "image/png"),
    AUDIO(2, "audio/wav"),
    TEXT(3, "text/plain; charset=utf-8");

    private final int wireId;
    private final String defaultContentType;

    Modality(int wireId, String defaultContentType) {
        this.wireId = wireId;
        this.defaultContentType = defaultContentType;
    }

    /** Stable byte written into minibatch records; never reuse a retired id. */
    public int wireId() {
        return wireId;
    }

    public String defaultContentType() {
        return defaultContentType;
    }

    /** Lower-case name used in topic names, file layouts and the command line. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Modality fromWireId(int id) {
        for (Modality m : values()) {
            if (m.wireId == id) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown modality wire id " + id + " (known: 1 image, 2 audio, 3 text)");
    }

    /** Parses "image", "audio" or "text" (any case). */
    public static Modality parse(String s) {
        for (Modality m : values()) {
            if (m.id().equalsIgnoreCase(s.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown modality '" + s + "': expected image, audio or text");
    }
}
