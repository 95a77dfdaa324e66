package dev.d2v.ingest.data;

import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * "spoken-phrases": unlabeled three-word phrases of WordNet noun lemmas ("harbor violin quartz"), spoken by
 * the spoken-digits training speakers only (never a held-out variant), processed like the digits, into
 * {@code <root>/unlabeled/<n>.wav}, for audio pretraining. {@code <root>/phrases.tsv} lists file, speaker and
 * text of every clip.
 */
public final class SpokenPhrases implements Dataset {

    public static final String NAME = "spoken-phrases";
    public static final int WORDS_PER_PHRASE = 3;
    public static final String TRANSCRIPTS = "phrases.tsv";
    /** Single words of letters only (no digits, hyphens, apostrophes), 3+ letters: pronounceable as words. */
    private static final Pattern LEMMA = Pattern.compile("[a-z]{3,}");

    private final SpokenOptions options;

    public SpokenPhrases() {
        this(SpokenOptions.defaults());
    }

    public SpokenPhrases(SpokenOptions options) {
        this.options = options;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Modality modality() {
        return Modality.AUDIO;
    }

    @Override
    public String description() {
        return "unlabeled spoken three-word phrases of WordNet nouns (espeak-ng + sox, 16 kHz wav), "
                + "spoken by the spoken-digits training speakers, for audio pretraining";
    }

    /** One phrase clip: {@code unlabeled/<index>.wav}. */
    record Phrase(int index, Speaker speaker, String text) {
        String relativePath() {
            return String.format("unlabeled/%05d.wav", index);
        }
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        List<String> lemmas = nounLemmas(options.wordnetNouns());
        SpeechSynth synth = new SpeechSynth(options.espeakCommand(), options.soxCommand());
        Map<String, String> versions = synth.versions();
        SpokenSupport.Split speakers = SpokenSupport.split(options.speakers(), synth, options.threads(),
                ctx.progress());
        int count = ctx.limit() == 0 ? options.phraseCount() : Math.min(ctx.limit(), options.phraseCount());
        List<Phrase> phrases = plan(count, speakers.train(), lemmas, ctx.seed());

        Files.createDirectories(root);
        FileTrees.delete(root.resolve("unlabeled"));
        Files.createDirectories(root.resolve("unlabeled"));
        SpokenSupport.parallel(phrases, options.threads(), ctx.progress(), NAME, p -> {
            ClipStyle style = ClipStyle.draw(ctx.seed(), p.speaker(), "phrase/" + p.index());
            synth.render(p.speaker(), p.text(), style, root.resolve(p.relativePath()));
            return p;
        });
        Files.write(root.resolve(TRANSCRIPTS), transcripts(phrases), StandardCharsets.UTF_8);

        String rule = "unlabeled: " + count + " phrases of " + WORDS_PER_PHRASE + " WordNet noun lemmas, each "
                + "spoken by one spoken-digits training speaker (" + speakers.train().size() + " speakers; the "
                + "held-out test variants " + options.speakers().testVariants() + " never speak)"
                + SpokenDigits.dropped(speakers);
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, NAME, Modality.AUDIO.id(), Map.of("unlabeled", count),
                0, rule, ctx.seed(), SpokenDigits.source() + ", words from WordNet 3.0 (Debian package "
                + "wordnet-base) " + options.wordnetNouns(), versions, Instant.now().toString());
        m.write(root);
        return m;
    }

    /** Phrase i: its speaker and words drawn from a Random keyed by (seed, i) alone, so any prefix is stable. */
    static List<Phrase> plan(int count, List<Speaker> speakers, List<String> lemmas, long seed) {
        List<Phrase> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Random r = SpokenSupport.random(seed, "phrase", Integer.toString(i));
            Speaker s = speakers.get(r.nextInt(speakers.size()));
            List<String> words = new ArrayList<>(WORDS_PER_PHRASE);
            while (words.size() < WORDS_PER_PHRASE) {
                String w = lemmas.get(r.nextInt(lemmas.size()));
                if (!words.contains(w)) {
                    words.add(w);
                }
            }
            out.add(new Phrase(i, s, String.join(" ", words)));
        }
        return out;
    }

    /**
     * Single-word noun lemmas of WordNet's index.noun, in file (sorted) order. Its license header lines start
     * with a space; every other line starts with the lemma (underscores for spaces).
     */
    static List<String> nounLemmas(Path indexNoun) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(indexNoun, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException("WordNet noun index " + indexNoun + " is missing; install it with: "
                    + "apt-get install wordnet-base", e);
        }
        List<String> lemmas = new ArrayList<>();
        for (String line : lines) {
            if (line.isEmpty() || line.charAt(0) == ' ') {
                continue;
            }
            int sp = line.indexOf(' ');
            String lemma = sp < 0 ? line : line.substring(0, sp);
            if (LEMMA.matcher(lemma).matches()) {
                lemmas.add(lemma);
            }
        }
        if (lemmas.size() < WORDS_PER_PHRASE) {
            throw new IOException(indexNoun + " holds " + lemmas.size() + " usable noun lemmas; is it WordNet's "
                    + "index.noun?");
        }
        return lemmas;
    }

    static List<String> transcripts(List<Phrase> phrases) {
        List<String> out = new ArrayList<>(phrases.size() + 1);
        out.add("file\tspeaker\ttext");
        for (Phrase p : phrases) {
            out.add(p.relativePath() + "\t" + p.speaker().name() + "\t" + p.text());
        }
        return out;
    }
}
