package dev.d2v.ingest.data;

import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * "spoken-digit-phrases": three-word phrases whose first word is a digit word and whose other two are WordNet
 * nouns ("seven harbor quartz"); the label is the digit. Spoken by the spoken-digits speakers with the same
 * processing, into {@code <root>/{train,test}/<digit>/<voice>+<variant>_<clip>.wav}, test speakers again those of
 * the held-out variants. {@code <root>/phrases.tsv} lists file, speaker, text and leading silence of every clip.
 *
 * <p>Isolated digits are solved by a randomly initialised encoder and by log-mel statistics alone; here two
 * nouns from some 55 000 WordNet lemmas fill most of each clip, so a mean over the clip says little about the
 * digit unless the features single out the first word.
 */
public final class SpokenDigitPhrases implements Dataset {

    public static final String NAME = "spoken-digit-phrases";
    public static final String TRANSCRIPTS = "phrases.tsv";
    /** Nouns after the digit. */
    static final int DISTRACTORS = 2;
    /**
     * Longest silence before a phrase: the digit starts anywhere in the first half second, so no fixed stretch of
     * frames holds it; with the longest phrases it still starts well inside the evaluation's 2 s window.
     */
    static final int MAX_LEAD_MILLIS = 500;

    private final SpokenOptions options;

    public SpokenDigitPhrases() {
        this(SpokenOptions.defaults());
    }

    public SpokenDigitPhrases(SpokenOptions options) {
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
        return "the first word of spoken three-word phrases, a digit 0-9 followed by two WordNet nouns "
                + "(espeak-ng + sox, 16 kHz wav; speakers as spoken-digits, test = held-out variants "
                + options.speakers().testVariants() + ")";
    }

    /**
     * One clip: a spoken-digits clip (split, digit, speaker, index: its file name) with nouns after the digit.
     *
     * @param nouns       the distractor words, spoken after the digit
     * @param leadMillis  silence before the phrase, 0..{@value #MAX_LEAD_MILLIS} ms
     */
    record Clip(SpokenDigits.Clip digit, List<String> nouns, int leadMillis) {
        String text() {
            return digit.text() + " " + String.join(" ", nouns);
        }

        String relativePath() {
            return digit.relativePath();
        }

        ClipStyle style(long seed) {
            return ClipStyle.draw(seed, digit.speaker(), "digit-phrase/" + digit.digit() + "/" + digit.index())
                    .withLead(leadMillis);
        }
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        List<String> nouns = distractors(SpokenPhrases.nounLemmas(options.wordnetNouns()));
        SpeechSynth synth = new SpeechSynth(options.espeakCommand(), options.soxCommand());
        Map<String, String> versions = synth.versions();
        SpokenSupport.Split speakers = SpokenSupport.split(options.speakers(), synth, options.threads(),
                ctx.progress());
        List<Clip> all = new ArrayList<>(
                plan("train", speakers.train(), options.clipsPerDigit(), nouns, ctx.seed(), ctx.limit()));
        int trainCount = all.size();
        all.addAll(plan("test", speakers.test(), options.clipsPerDigit(), nouns, ctx.seed(), ctx.limit()));

        Files.createDirectories(root);
        FileTrees.delete(root.resolve("train"));
        FileTrees.delete(root.resolve("test"));
        for (String split : List.of("train", "test")) {
            for (int d = 0; d < SpokenDigits.WORDS.size(); d++) {
                Files.createDirectories(root.resolve(split).resolve(Integer.toString(d)));
            }
        }
        SpokenSupport.parallel(all, options.threads(), ctx.progress(), NAME, c -> {
            synth.render(c.digit().speaker(), c.text(), c.style(ctx.seed()), root.resolve(c.relativePath()));
            return c;
        });
        Files.write(root.resolve(TRANSCRIPTS), transcripts(all), StandardCharsets.UTF_8);

        Map<String, Integer> counts = new TreeMap<>(Map.of("train", trainCount, "test", all.size() - trainCount));
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, NAME, Modality.AUDIO.id(), counts,
                SpokenDigits.WORDS.size(), splitRule(speakers), ctx.seed(), SpokenDigits.source()
                + ", nouns from WordNet 3.0 (Debian package wordnet-base) " + options.wordnetNouns(), versions,
                Instant.now().toString());
        m.write(root);
        return m;
    }

    /**
     * The clips of one split: {@link SpokenDigits#plan} (so the same dealing, limit and file names), each with
     * {@value #DISTRACTORS} distinct nouns and a leading silence drawn from a Random keyed by the seed and the
     * clip's file, never by its position in the plan: a limited set is a prefix of the full one, clip for clip.
     */
    static List<Clip> plan(String split, List<Speaker> speakers, int clipsPerDigit, List<String> nouns, long seed,
                           int limit) {
        List<Clip> out = new ArrayList<>();
        for (SpokenDigits.Clip c : SpokenDigits.plan(split, speakers, clipsPerDigit, seed, limit)) {
            Random r = SpokenSupport.random(seed, "digit-phrase", c.relativePath());
            List<String> words = new ArrayList<>(DISTRACTORS);
            while (words.size() < DISTRACTORS) {
                String w = nouns.get(r.nextInt(nouns.size()));
                if (!words.contains(w)) {
                    words.add(w);
                }
            }
            out.add(new Clip(c, List.copyOf(words), r.nextInt(MAX_LEAD_MILLIS + 1)));
        }
        return out;
    }

    /** The noun lemmas without the digit words themselves ("one", "nine" are WordNet nouns too). */
    static List<String> distractors(List<String> lemmas) {
        List<String> out = lemmas.stream().filter(w -> !SpokenDigits.WORDS.contains(w)).toList();
        if (out.size() < DISTRACTORS) {
            throw new IllegalArgumentException("need at least " + DISTRACTORS + " nouns besides the digit words, got "
                    + out);
        }
        return out;
    }

    static List<String> transcripts(List<Clip> clips) {
        List<String> out = new ArrayList<>(clips.size() + 1);
        out.add("file\tspeaker\ttext\tlead_ms");
        for (Clip c : clips) {
            out.add(c.relativePath() + "\t" + c.digit().speaker().name() + "\t" + c.text() + "\t" + c.leadMillis());
        }
        return out;
    }

    private String splitRule(SpokenSupport.Split s) {
        return "by voice variant, as spoken-digits: test = speakers of the held-out variants "
                + options.speakers().testVariants() + " (" + s.test().size() + " speakers), train = all other "
                + "variants (" + s.train().size() + " speakers); voices " + options.speakers().voices() + "; "
                + options.clipsPerDigit() + " clips per speaker and digit; each clip: the digit word, then "
                + DISTRACTORS + " distinct WordNet nouns (not digit words), after 0.." + MAX_LEAD_MILLIS + " ms of silence"
                + SpokenDigits.dropped(s);
    }
}
