package dev.d2v.ingest.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of the spoken sets (spoken-digits, spoken-phrases).
 *
 * @param speakers       voices x variants and the held-out test variants
 * @param clipsPerDigit  clips per speaker and digit; 3 gives 126 speakers x 10 digits x 3 = 3780 clips, enough
 *                       to fine-tune a small classifier and quick to make (a few minutes on 2 cores)
 * @param phraseCount    unlabeled phrase clips; 2000 (about 40 minutes of speech) for audio pretraining
 * @param threads        synthesis processes run at once; 2 because this project's machines have 2 cores
 * @param espeakCommand  espeak-ng executable (a name found on PATH, or a path)
 * @param soxCommand     sox executable
 * @param wordnetNouns   WordNet's index.noun (Debian package wordnet-base), source of the phrase words
 */
public record SpokenOptions(SpeakerSet speakers, int clipsPerDigit, int phraseCount, int threads,
                            String espeakCommand, String soxCommand, Path wordnetNouns) {

    public static final Path DEBIAN_WORDNET_NOUNS = Path.of("/usr/share/wordnet/index.noun");

    public SpokenOptions {
        Objects.requireNonNull(speakers, "speakers");
        Objects.requireNonNull(espeakCommand, "espeakCommand");
        Objects.requireNonNull(soxCommand, "soxCommand");
        Objects.requireNonNull(wordnetNouns, "wordnetNouns");
        if (clipsPerDigit < 1 || phraseCount < 1 || threads < 1) {
            throw new IllegalArgumentException("clipsPerDigit, phraseCount and threads must be >= 1, got "
                    + clipsPerDigit + ", " + phraseCount + ", " + threads);
        }
    }

    public static SpokenOptions defaults() {
        return new SpokenOptions(SpeakerSet.defaults(), 3, 2000, 2, "espeak-ng", "sox", DEBIAN_WORDNET_NOUNS);
    }

    public SpokenOptions withSpeakers(SpeakerSet s) {
        return new SpokenOptions(s, clipsPerDigit, phraseCount, threads, espeakCommand, soxCommand, wordnetNouns);
    }

    public SpokenOptions withTools(String espeak, String sox) {
        return new SpokenOptions(speakers, clipsPerDigit, phraseCount, threads, espeak, sox, wordnetNouns);
    }
}
