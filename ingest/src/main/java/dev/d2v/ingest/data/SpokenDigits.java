package dev.d2v.ingest.data;

import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * "spoken-digits": the words zero..nine spoken by synthetic speakers (espeak-ng voice x variant) with
 * per-speaker pitch and speed, per-clip jitter, level, reverb and noise (sox), as 16 kHz mono 16-bit WAV in
 * {@code <root>/{train,test}/<digit>/<voice>+<variant>_<clip>.wav}. Test speakers are those of the held-out
 * variants ({@link SpeakerSet#testVariants()}), so no variant is heard in both splits.
 */
public final class SpokenDigits implements Dataset {

    public static final String NAME = "spoken-digits";
    public static final List<String> WORDS =
            List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine");

    private final SpokenOptions options;

    public SpokenDigits() {
        this(SpokenOptions.defaults());
    }

    public SpokenDigits(SpokenOptions options) {
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
        return "spoken digits 0-9 synthesised with espeak-ng and sox (" + options.speakers().voices().size()
                + " English accents x " + options.speakers().variants().size() + " voice variants, 16 kHz wav; "
                + "test = held-out variants " + options.speakers().testVariants() + ")";
    }

    /**
     * One clip to make.
     *
     * @param split  "train" or "test"
     * @param digit  label 0..9
     * @param index  clip number of this speaker and digit, 0-based
     */
    record Clip(String split, int digit, Speaker speaker, int index) {
        String text() {
            return WORDS.get(digit);
        }

        /** "train/7/en-us+m3_02.wav" */
        String relativePath() {
            return String.format("%s/%d/%s_%02d.wav", split, digit, speaker.name(), index);
        }

        ClipStyle style(long seed) {
            return ClipStyle.draw(seed, speaker, "digit/" + digit + "/" + index);
        }
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        SpeechSynth synth = new SpeechSynth(options.espeakCommand(), options.soxCommand());
        Map<String, String> versions = synth.versions();
        SpokenSupport.Split speakers = SpokenSupport.split(options.speakers(), synth, options.threads(),
                ctx.progress());
        List<Clip> train = plan("train", speakers.train(), options.clipsPerDigit(), ctx.seed(), ctx.limit());
        List<Clip> test = plan("test", speakers.test(), options.clipsPerDigit(), ctx.seed(), ctx.limit());

        Files.createDirectories(root);
        FileTrees.delete(root.resolve("train"));
        FileTrees.delete(root.resolve("test"));
        for (String split : List.of("train", "test")) {
            for (int d = 0; d < WORDS.size(); d++) {
                Files.createDirectories(root.resolve(split).resolve(Integer.toString(d)));
            }
        }
        List<Clip> all = new ArrayList<>(train);
        all.addAll(test);
        SpokenSupport.parallel(all, options.threads(), ctx.progress(), NAME, c -> {
            synth.render(c.speaker(), c.text(), c.style(ctx.seed()), root.resolve(c.relativePath()));
            return c;
        });

        Map<String, Integer> counts = new TreeMap<>(Map.of("train", train.size(), "test", test.size()));
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, NAME, Modality.AUDIO.id(), counts, WORDS.size(),
                splitRule(speakers), ctx.seed(), source(), versions, Instant.now().toString());
        m.write(root);
        return m;
    }

    /**
     * The clips of one split: every speaker x digit x clip index, shuffled within each digit by the seed and
     * dealt digit by digit (0,1,..,9,0,1,..), so that a limit keeps every digit about equally and many
     * speakers; then cut to {@code limit} (0 = all).
     */
    static List<Clip> plan(String split, List<Speaker> speakers, int clipsPerDigit, long seed, int limit) {
        List<List<Clip>> byDigit = new ArrayList<>();
        for (int d = 0; d < WORDS.size(); d++) {
            List<Clip> clips = new ArrayList<>();
            for (Speaker s : speakers) {
                for (int k = 0; k < clipsPerDigit; k++) {
                    clips.add(new Clip(split, d, s, k));
                }
            }
            Collections.shuffle(clips, SpokenSupport.random(seed, "order", split, Integer.toString(d)));
            byDigit.add(clips);
        }
        List<Clip> out = new ArrayList<>();
        int perDigit = speakers.size() * clipsPerDigit;
        for (int i = 0; i < perDigit; i++) {
            for (List<Clip> clips : byDigit) {
                out.add(clips.get(i));
            }
        }
        return limit == 0 || limit >= out.size() ? out : List.copyOf(out.subList(0, limit));
    }

    private String splitRule(SpokenSupport.Split s) {
        return "by voice variant: test = speakers of the held-out variants " + options.speakers().testVariants()
                + " (" + s.test().size() + " speakers), train = all other variants (" + s.train().size()
                + " speakers); voices " + options.speakers().voices() + "; " + options.clipsPerDigit()
                + " clips per speaker and digit" + dropped(s);
    }

    static String dropped(SpokenSupport.Split s) {
        return s.dropped().isEmpty() ? "" : "; dropped as byte-identical to another speaker: " + s.dropped();
    }

    static String source() {
        return "generated by espeak-ng and sox (Debian packages espeak-ng, sox)";
    }
}
