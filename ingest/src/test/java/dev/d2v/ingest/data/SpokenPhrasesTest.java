package dev.d2v.ingest.data;

import static dev.d2v.ingest.data.SpokenTestSupport.SMALL;
import static dev.d2v.ingest.data.SpokenTestSupport.rms;
import static dev.d2v.ingest.data.SpokenTestSupport.wavFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpokenPhrasesTest {

    static final long SEED = 11;

    @Test
    void lemmasAreSingleWordsWithoutDigits() throws IOException {
        assumeTrue(Files.isRegularFile(SpokenOptions.DEBIAN_WORDNET_NOUNS), "wordnet-base is not installed");
        List<String> lemmas = SpokenPhrases.nounLemmas(SpokenOptions.DEBIAN_WORDNET_NOUNS);
        assertThat(lemmas.size()).isGreaterThan(20_000);
        assertThat(lemmas).allMatch(w -> w.matches("[a-z]{3,}")).contains("violin", "harbor")
                .doesNotContain("'hood", "1-hitter", "abstract_entity");
    }

    @Test
    void phrasesAreThreeWordsByTrainSpeakersOnly(@TempDir Path cache) throws IOException {
        assumeTrue(SpokenTestSupport.toolsInstalled(), "espeak-ng and sox are not installed");
        assumeTrue(Files.isRegularFile(SpokenOptions.DEBIAN_WORDNET_NOUNS), "wordnet-base is not installed");
        DataContext ctx = new DataContext(cache, SEED, 6, null);
        SpokenPhrases set = new SpokenPhrases(SpokenTestSupport.smallOptions());
        Manifest m = set.fetch(ctx);
        Path root = set.root(ctx);

        List<Path> files = wavFiles(root);
        assertThat(files).hasSize(6).allSatisfy(f -> assertThat(root.relativize(f).getName(0).toString())
                .isEqualTo("unlabeled"));
        for (Path f : files) {
            WavHeader h = WavHeader.read(f);
            assertThat(List.of(h.sampleRate(), h.channels(), h.bitsPerSample())).isEqualTo(List.of(16_000, 1, 16));
            assertThat(h.seconds()).as("three words take a while: %s", f).isGreaterThan(0.8);
            assertThat(rms(f)).isGreaterThan(0.02);
        }
        List<String> rows = Files.readAllLines(root.resolve(SpokenPhrases.TRANSCRIPTS));
        assertThat(rows).hasSize(7);
        HashSet<String> lemmas = new HashSet<>(SpokenPhrases.nounLemmas(SpokenOptions.DEBIAN_WORDNET_NOUNS));
        for (String row : rows.subList(1, rows.size())) {
            String[] cols = row.split("\t");
            assertThat(root.resolve(cols[0])).exists();
            String[] words = cols[2].split(" ");
            assertThat(words).hasSize(3).doesNotHaveDuplicates();
            assertThat(lemmas).contains(words);
            String variant = cols[1].substring(cols[1].indexOf('+') + 1);
            assertThat(variant).isNotIn(SMALL.testVariants());
        }
        assertThat(m.counts()).containsEntry("unlabeled", 6);
        assertThat(m.classes()).isZero();
        // fetch is idempotent: the manifest is there, nothing is made again
        assertThat(set.fetch(ctx)).isEqualTo(m);
    }

    @Test
    void planIsAPrefixStablePureFunction() {
        List<Speaker> train = SMALL.all().stream().filter(s -> !SMALL.isTest(s)).toList();
        List<String> lemmas = List.of("apple", "bridge", "cloud", "desk", "engine");
        List<SpokenPhrases.Phrase> ten = SpokenPhrases.plan(10, train, lemmas, SEED);
        assertThat(SpokenPhrases.plan(4, train, lemmas, SEED)).isEqualTo(ten.subList(0, 4));
        assertThat(SpokenPhrases.plan(10, train, lemmas, SEED + 1)).isNotEqualTo(ten);
        assertThat(ten).allSatisfy(p -> assertThat(p.text().split(" ")).hasSize(3).doesNotHaveDuplicates());
    }
}
