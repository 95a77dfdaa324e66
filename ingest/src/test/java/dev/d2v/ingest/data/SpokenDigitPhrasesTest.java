package dev.d2v.ingest.data;

import static dev.d2v.ingest.data.SpokenTestSupport.SMALL;
import static dev.d2v.ingest.data.SpokenTestSupport.rms;
import static dev.d2v.ingest.data.SpokenTestSupport.wavFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpokenDigitPhrasesTest {

    static final int LIMIT = 12;
    static final long SEED = 5;

    @TempDir
    static Path cache;
    static Manifest manifest;
    static Path root;

    @BeforeAll
    static void fetchSmallSet() throws IOException {
        assumeTrue(SpokenTestSupport.toolsInstalled(), "espeak-ng and sox are not installed");
        assumeTrue(Files.isRegularFile(SpokenOptions.DEBIAN_WORDNET_NOUNS), "wordnet-base is not installed");
        DataContext ctx = new DataContext(cache, SEED, LIMIT, null);
        SpokenDigitPhrases set = new SpokenDigitPhrases(SpokenTestSupport.smallOptions());
        manifest = set.fetch(ctx);
        root = set.root(ctx);
    }

    @Test
    void isRegisteredAsAnAudioDataset() {
        assertThat(Datasets.byName(SpokenDigitPhrases.NAME)).isInstanceOf(SpokenDigitPhrases.class);
        assertThat(Datasets.byName(SpokenDigitPhrases.NAME).modality().id()).isEqualTo("audio");
    }

    @Test
    void clipsSitInTheirSplitAndDigitFoldersAndLastLongerThanADigit() throws IOException {
        for (String split : List.of("train", "test")) {
            List<Path> files = wavFiles(root.resolve(split));
            assertThat(files).hasSize(LIMIT);
            Set<String> labels = new HashSet<>();
            for (Path f : files) {
                Path rel = root.resolve(split).relativize(f);
                assertThat(rel.getNameCount()).isEqualTo(2);
                labels.add(rel.getName(0).toString());
                assertThat(rel.getFileName().toString()).matches("[a-z-]+\\+[a-z0-9]+_\\d{2}\\.wav");
                WavHeader h = WavHeader.read(f);
                assertThat(List.of(h.formatTag(), h.sampleRate(), h.channels(), h.bitsPerSample()))
                        .as("format %s", f).isEqualTo(List.of(1, 16_000, 1, 16));
                assertThat(h.seconds()).as("a digit and two nouns: %s", f).isBetween(0.8, 8.0);
                assertThat(rms(f)).as("rms %s", f).isGreaterThan(0.02);
            }
            assertThat(labels).containsExactlyInAnyOrder("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        }
        assertThat(manifest.counts()).containsEntry("train", LIMIT).containsEntry("test", LIMIT);
        assertThat(manifest.classes()).isEqualTo(10);
        assertThat(manifest.seed()).isEqualTo(SEED);
        assertThat(manifest.splitRule()).contains("[m3]");
        assertThat(manifest.source()).contains("wordnet-base");
        assertThat(Manifest.readIfPresent(root)).isEqualTo(manifest);
    }

    @Test
    void everyPhraseIsItsFoldersDigitThenTwoOtherNouns() throws IOException {
        List<String> rows = Files.readAllLines(root.resolve(SpokenDigitPhrases.TRANSCRIPTS));
        assertThat(rows).hasSize(1 + 2 * LIMIT);
        assertThat(rows.get(0)).isEqualTo("file\tspeaker\ttext\tlead_ms");
        Set<String> nouns = new HashSet<>(SpokenPhrases.nounLemmas(SpokenOptions.DEBIAN_WORDNET_NOUNS));
        for (String row : rows.subList(1, rows.size())) {
            String[] cols = row.split("\t");
            Path file = root.resolve(cols[0]);
            assertThat(file).exists();
            assertThat(file.getFileName().toString()).startsWith(cols[1] + "_");
            int digit = Integer.parseInt(file.getParent().getFileName().toString());
            String[] words = cols[2].split(" ");
            assertThat(words).hasSize(3).doesNotHaveDuplicates();
            assertThat(words[0]).isEqualTo(SpokenDigits.WORDS.get(digit));
            assertThat(List.of(words[1], words[2])).allSatisfy(w -> assertThat(w).isIn(nouns)
                    .isNotIn(SpokenDigits.WORDS));
            // the leading silence is there: nothing but the resampler's ringing before the speech
            int lead = Integer.parseInt(cols[3]);
            if (lead > 50) {
                assertThat(rmsOfFirst(file, (lead - 20) * 16)).as("lead of %s", file).isLessThan(0.002);
            }
        }
    }

    @Test
    void trainAndTestSpeakersAreDisjointByVariant() throws IOException {
        Set<Speaker> train = wavFiles(root.resolve("train")).stream().map(SpokenTestSupport::speakerOf)
                .collect(Collectors.toSet());
        Set<Speaker> test = wavFiles(root.resolve("test")).stream().map(SpokenTestSupport::speakerOf)
                .collect(Collectors.toSet());
        assertThat(train).isNotEmpty().doesNotContainAnyElementsOf(test);
        assertThat(test).isNotEmpty().allSatisfy(s -> assertThat(s.variant()).isIn(SMALL.testVariants()));
        assertThat(train).allSatisfy(s -> assertThat(s.variant()).isNotIn(SMALL.testVariants()));
    }

    @Test
    void generatingTwiceGivesByteIdenticalFiles(@TempDir Path other) throws IOException {
        DataContext ctx = new DataContext(other, SEED, LIMIT, null);
        SpokenDigitPhrases set = new SpokenDigitPhrases(SpokenTestSupport.smallOptions());
        set.fetch(ctx);
        Path root2 = set.root(ctx);
        TreeMap<String, String> a = hashes(root);
        assertThat(a).hasSize(2 * LIMIT + 1); // the clips and phrases.tsv
        assertThat(hashes(root2)).isEqualTo(a);
        assertThat(new HashSet<>(a.values())).hasSize(a.size());
    }

    @Test
    void planFollowsTheDigitPlanAndKeepsAPrefix() {
        List<Speaker> speakers = SMALL.all();
        List<String> nouns = List.of("apple", "bridge", "cloud", "desk", "engine");
        List<SpokenDigitPhrases.Clip> full = SpokenDigitPhrases.plan("train", speakers, 2, nouns, SEED, 0);
        assertThat(full).extracting(SpokenDigitPhrases.Clip::digit)
                .isEqualTo(SpokenDigits.plan("train", speakers, 2, SEED, 0));
        assertThat(SpokenDigitPhrases.plan("train", speakers, 2, nouns, SEED, 20)).isEqualTo(full.subList(0, 20));
        assertThat(full).allSatisfy(c -> assertThat(c.nouns()).hasSize(2).doesNotHaveDuplicates()
                .isSubsetOf(nouns));
        assertThat(full.get(13).text()).startsWith("three ");
        assertThat(full).allSatisfy(c -> assertThat(c.leadMillis()).isBetween(0,
                SpokenDigitPhrases.MAX_LEAD_MILLIS));
        assertThat(full.stream().mapToInt(SpokenDigitPhrases.Clip::leadMillis).distinct().count()).isGreaterThan(5);
        assertThat(full.get(0).style(SEED).leadMillis()).isEqualTo(full.get(0).leadMillis());
        // the nouns vary with the clip and with the seed
        assertThat(full.stream().map(SpokenDigitPhrases.Clip::nouns).distinct().count()).isGreaterThan(5);
        assertThat(SpokenDigitPhrases.plan("train", speakers, 2, nouns, SEED + 1, 0)).extracting(
                SpokenDigitPhrases.Clip::nouns).isNotEqualTo(full.stream().map(SpokenDigitPhrases.Clip::nouns)
                .toList());
    }

    @Test
    void leadingSilenceIsPaddedOnlyWhenAsked() {
        Speaker s = new Speaker("en-us", "m1");
        ClipStyle plain = ClipStyle.draw(SEED, s, "digit/3/0");
        SpeechSynth synth = new SpeechSynth("espeak-ng", "sox");
        Path in = Path.of("in.wav");
        Path out = Path.of("out.wav");
        assertThat(plain.leadMillis()).isZero();
        assertThat(synth.soxCommand(in, 22050, 1000, plain, out)).doesNotContain("pad");
        assertThat(synth.soxCommand(in, 22050, 1000, plain.withLead(250), out)).containsSubsequence(out.toString(),
                "pad", "0.2500", "0", "rate");
    }

    @Test
    void digitWordsAreNeverDistractors() {
        assertThat(SpokenDigitPhrases.distractors(List.of("apple", "one", "bridge", "nine", "zero")))
                .containsExactly("apple", "bridge");
        assertThatThrownBy(() -> SpokenDigitPhrases.distractors(List.of("apple", "seven")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Root mean square of the first {@code n} samples of a 16-bit PCM file. */
    private static double rmsOfFirst(Path wav, int n) throws IOException {
        byte[] bytes = Files.readAllBytes(wav);
        WavHeader h = WavHeader.parse(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes, h.dataOffset(), h.dataBytes()).order(ByteOrder.LITTLE_ENDIAN);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double x = b.getShort() / 32768.0;
            sum += x * x;
        }
        return Math.sqrt(sum / n);
    }

    private static TreeMap<String, String> hashes(Path dir) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        List<Path> files = new ArrayList<>(wavFiles(dir));
        files.add(dir.resolve(SpokenDigitPhrases.TRANSCRIPTS));
        for (Path f : files) {
            out.put(dir.relativize(f).toString(), SpokenSupport.sha256(Files.readAllBytes(f)));
        }
        return out;
    }
}
