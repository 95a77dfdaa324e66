package dev.d2v.ingest.data;

import static dev.d2v.ingest.data.SpokenTestSupport.SMALL;
import static dev.d2v.ingest.data.SpokenTestSupport.rms;
import static dev.d2v.ingest.data.SpokenTestSupport.speakerOf;
import static dev.d2v.ingest.data.SpokenTestSupport.wavFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
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

class SpokenDigitsTest {

    static final int LIMIT = 12;
    static final long SEED = 7;

    @TempDir
    static Path cache;
    static Manifest manifest;
    static Path root;

    @BeforeAll
    static void fetchSmallSet() throws IOException {
        assumeTrue(SpokenTestSupport.toolsInstalled(), "espeak-ng and sox are not installed");
        DataContext ctx = new DataContext(cache, SEED, LIMIT, null);
        SpokenDigits set = new SpokenDigits(SpokenTestSupport.smallOptions());
        manifest = set.fetch(ctx);
        root = set.root(ctx);
    }

    @Test
    void smallGenerationIsSixteenKilohertzMonoPcmAndAudible() throws IOException {
        List<Path> files = wavFiles(root);
        assertThat(files).hasSize(2 * LIMIT);
        for (Path f : files) {
            WavHeader h = WavHeader.read(f);
            assertThat(h.formatTag()).as("PCM %s", f).isEqualTo(1);
            assertThat(h.sampleRate()).as("rate %s", f).isEqualTo(16_000);
            assertThat(h.channels()).as("channels %s", f).isEqualTo(1);
            assertThat(h.bitsPerSample()).as("bits %s", f).isEqualTo(16);
            assertThat(h.seconds()).as("length %s", f).isBetween(0.2, 3.0);
            assertThat(rms(f)).as("rms %s", f).isGreaterThan(0.02); // peak-normalised to >= 0.3 full scale
        }
    }

    @Test
    void filesSitInTheirSplitAndDigitFolders() throws IOException {
        for (String split : List.of("train", "test")) {
            List<Path> files = wavFiles(root.resolve(split));
            assertThat(files).hasSize(LIMIT);
            Set<String> labels = new HashSet<>();
            for (Path f : files) {
                Path rel = root.resolve(split).relativize(f);
                assertThat(rel.getNameCount()).isEqualTo(2);
                labels.add(rel.getName(0).toString());
                assertThat(rel.getFileName().toString()).matches("[a-z-]+\\+[a-z0-9]+_\\d{2}\\.wav");
            }
            // the plan deals digit by digit, so 12 clips cover all ten labels
            assertThat(labels).containsExactlyInAnyOrder("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        }
        assertThat(manifest.counts()).containsEntry("train", LIMIT).containsEntry("test", LIMIT);
        assertThat(manifest.classes()).isEqualTo(10);
        assertThat(manifest.seed()).isEqualTo(SEED);
        assertThat(manifest.splitRule()).contains("[m3]");
        assertThat(manifest.toolVersions().get("espeak-ng")).contains("eSpeak NG");
        assertThat(manifest.toolVersions().get("sox")).contains("SoX");
        assertThat(Manifest.readIfPresent(root)).isEqualTo(manifest);
    }

    @Test
    void trainAndTestSpeakersAreDisjointByVariant() throws IOException {
        Set<Speaker> train = wavFiles(root.resolve("train")).stream().map(SpokenTestSupport::speakerOf)
                .collect(Collectors.toSet());
        Set<Speaker> test = wavFiles(root.resolve("test")).stream().map(SpokenTestSupport::speakerOf)
                .collect(Collectors.toSet());
        assertThat(train).isNotEmpty().doesNotContainAnyElementsOf(test);
        assertThat(test).allSatisfy(s -> assertThat(s.variant()).isIn(SMALL.testVariants()));
        assertThat(train).allSatisfy(s -> assertThat(s.variant()).isNotIn(SMALL.testVariants()));
        // the full plan: no speaker in both splits at any size
        List<Speaker> all = SMALL.all();
        List<SpokenDigits.Clip> fullTrain = SpokenDigits.plan("train",
                all.stream().filter(s -> !SMALL.isTest(s)).toList(), 3, SEED, 0);
        assertThat(fullTrain).hasSize(6 * 10 * 3).extracting(c -> c.speaker().variant())
                .doesNotContain("m3");
    }

    @Test
    void generatingTwiceGivesByteIdenticalFiles(@TempDir Path other) throws IOException {
        DataContext ctx = new DataContext(other, SEED, LIMIT, null);
        SpokenDigits set = new SpokenDigits(SpokenTestSupport.smallOptions());
        set.fetch(ctx);
        Path root2 = set.root(ctx);
        TreeMap<String, String> a = hashes(root);
        TreeMap<String, String> b = hashes(root2);
        assertThat(a).hasSize(2 * LIMIT);
        assertThat(b).isEqualTo(a);
        // and the clips differ from one another (jitter, level, noise): no two files alike
        assertThat(new HashSet<>(a.values())).hasSize(a.size());
    }

    @Test
    void differentVariantsGiveDifferentAudioButEnGbIgnoresThem() throws IOException {
        SpeechSynth synth = new SpeechSynth("espeak-ng", "sox");
        String text = SpokenSupport.PROBE_TEXT;
        List<String> usHashes = new ArrayList<>();
        for (String variant : List.of("m1", "f1", "klatt", "m3")) {
            usHashes.add(SpokenSupport.sha256(synth.probe(new Speaker("en-us", variant), text)));
        }
        assertThat(new HashSet<>(usHashes)).hasSize(4);
        // the reason en-gb is not among the voices: every variant sounds the same
        assertThat(synth.probe(new Speaker("en-gb", "m1"), text)).isEqualTo(synth.probe(new Speaker("en-gb", "f1"),
                text));
        SpeakerSet withEnGb = new SpeakerSet(List.of("en-gb", "en-us"), List.of("m1", "f1", "m3"), List.of("m3"));
        SpokenSupport.Split split = SpokenSupport.split(withEnGb, synth, 2, s -> { });
        assertThat(split.dropped()).containsExactly("en-gb+f1 = en-gb+m1", "en-gb+m3 = en-gb+m1");
        assertThat(split.train()).extracting(Speaker::name).containsExactly("en-gb+m1", "en-us+m1", "en-us+f1");
        assertThat(split.test()).extracting(Speaker::name).containsExactly("en-us+m3");
    }

    @Test
    void everyDefaultSpeakerSoundsDifferent() throws IOException {
        SpokenSupport.Split split = SpokenSupport.split(SpeakerSet.defaults(), new SpeechSynth("espeak-ng", "sox"),
                2, s -> { });
        assertThat(split.dropped()).isEmpty();
        assertThat(split.train()).hasSize(7 * 15);
        assertThat(split.test()).hasSize(7 * 3);
    }

    @Test
    void limitedPlanDealsEveryDigitAndKeepsAPrefix() {
        List<Speaker> speakers = SMALL.all();
        List<SpokenDigits.Clip> full = SpokenDigits.plan("train", speakers, 2, SEED, 0);
        List<SpokenDigits.Clip> first20 = SpokenDigits.plan("train", speakers, 2, SEED, 20);
        assertThat(full).hasSize(8 * 10 * 2).doesNotHaveDuplicates();
        assertThat(first20).isEqualTo(full.subList(0, 20));
        assertThat(first20).extracting(SpokenDigits.Clip::digit)
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(SpokenDigits.plan("train", speakers, 2, SEED + 1, 0)).isNotEqualTo(full);
        assertThat(full.get(3).relativePath()).matches("train/3/[a-z-]+\\+[a-z0-9]+_0[01]\\.wav");
    }

    @Test
    void styleIsAPureFunctionOfSeedSpeakerAndClip() {
        Speaker s = new Speaker("en-us", "m1");
        ClipStyle a = ClipStyle.draw(SEED, s, "digit/3/0");
        assertThat(ClipStyle.draw(SEED, s, "digit/3/0")).isEqualTo(a);
        assertThat(ClipStyle.draw(SEED, s, "digit/3/1")).isNotEqualTo(a);
        assertThat(a.pitch()).isBetween(ClipStyle.BASE_PITCH_MIN - ClipStyle.PITCH_JITTER,
                ClipStyle.BASE_PITCH_MAX + ClipStyle.PITCH_JITTER);
        assertThat(a.amplitude()).isBetween(0.3, 0.9);
    }

    @Test
    void missingToolFailsWithInstallHint(@TempDir Path dir) {
        SpokenDigits set = new SpokenDigits(SpokenTestSupport.smallOptions()
                .withTools("espeak-ng-not-installed-here", "sox"));
        assertThatThrownBy(() -> set.fetch(new DataContext(dir, SEED, LIMIT, null)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("espeak-ng-not-installed-here")
                .hasMessageContaining("apt-get install espeak-ng sox");
        assertThat(dir.resolve("spoken-digits-limit12").resolve(Manifest.FILE)).doesNotExist();
    }

    @Test
    void failingSynthesisReportsTheToolsStderr() {
        SpeechSynth synth = new SpeechSynth("espeak-ng", "sox");
        assertThatThrownBy(() -> synth.probe(new Speaker("xx-no-such-voice", "m1"), "seven"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("espeak-ng failed")
                .hasMessageContaining("voice does not exist");
        assertThatThrownBy(() -> synth.checkVariants(List.of("m1", "no-such-variant")))
                .hasMessageContaining("no voice variant 'no-such-variant'");
    }

    private static TreeMap<String, String> hashes(Path dir) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        for (Path f : wavFiles(dir)) {
            out.put(dir.relativize(f).toString(), SpokenSupport.sha256(Files.readAllBytes(f)));
        }
        return out;
    }
}
