package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordNetTest {

    /** Copied from /usr/share/wordnet/data.noun (WordNet 3.0), trailing two spaces included. */
    static final String DOG = "02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 "
            + "@ 01317541 n 0000 #m 02083863 n 0000 #m 07994941 n 0000 ~ 01322604 n 0000 ~ 02084732 n 0000 "
            + "~ 02084861 n 0000 ~ 02085272 n 0000 ~ 02085374 n 0000 ~ 02087122 n 0000 ~ 02103406 n 0000 "
            + "~ 02110341 n 0000 ~ 02110806 n 0000 ~ 02110958 n 0000 ~ 02111129 n 0000 ~ 02111277 n 0000 "
            + "~ 02111500 n 0000 ~ 02111626 n 0000 ~ 02112497 n 0000 ~ 02112826 n 0000 ~ 02113335 n 0000 "
            + "~ 02113978 n 0000 %p 02158846 n 0000 | a member of the genus Canis (probably descended from the "
            + "common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds; "
            + "\"the dog barked all night\"  ";

    @TempDir
    Path cache;

    @Test
    void parsesARealNounLine() {
        WordNet.Synset s = WordNet.parseLine(DOG);
        assertThat(s.offset()).isEqualTo("02084071");
        assertThat(s.lexFile()).isEqualTo(5);
        assertThat(s.lexName()).isEqualTo("noun.animal");
        assertThat(s.ssType()).isEqualTo('n');
        assertThat(s.words()).containsExactly("dog", "domestic_dog", "Canis_familiaris");
        assertThat(s.definition()).isEqualTo("a member of the genus Canis (probably descended from the common wolf) "
                + "that has been domesticated by man since prehistoric times; occurs in many breeds");
        assertThat(s.examples()).containsExactly("the dog barked all night");
    }

    @Test
    void glossSplitKeepsSemicolonsInsideExamples() {
        assertThat(WordNet.splitGloss("a thing; \"he said; no\"; \"fine\""))
                .containsExactly("a thing", "\"he said; no\"", "\"fine\"");
        WordNet.Synset s = WordNet.parseLine("00003829 00 s 01 parturient(a) 0 002 & 00003356 a 0000 "
                + "+ 14048441 n 0101 | giving birth; \"a parturient heifer\"  ");
        assertThat(s.words()).containsExactly("parturient");
        assertThat(s.lexName()).isEqualTo("adj.all");
        assertThat(s.examples()).containsExactly("a parturient heifer");
    }

    @Test
    void lexnamesPutNounsAt03To28() {
        assertThat(WordNet.LEXNAMES).hasSize(45);
        assertThat(WordNet.LEXNAMES.subList(3, 29)).allMatch(n -> n.startsWith("noun.")).hasSize(26);
        assertThat(WordNet.LEXNAMES.get(28)).isEqualTo("noun.time");
        assertThat(WordNet.LEXNAMES.get(29)).isEqualTo("verb.body");
    }

    @Test
    void splitRuleIsCrc32OfTheNounOffset() {
        // values from Python: zlib.crc32(b"noun:00001930") % 10 == 0, "noun:02084071" -> 9, "noun:00002137" -> 5
        assertThat(WordNet.isTest("00001930")).isTrue();
        assertThat(WordNet.isTest("02084071")).isFalse();
        assertThat(WordNet.isTest("00002137")).isFalse();
    }

    @Test
    void fetchWritesProbeAndCorpus() throws IOException {
        assumeTrue(Files.isDirectory(WordNet.DEFAULT_DIR), "wordnet-base not installed");
        Manifest m = new WordNet().fetch(new DataContext(cache, 3, 300, null));
        Path root = cache.resolve("wordnet-limit300");
        assertThat(m.classes()).isEqualTo(26);
        assertThat(m.counts()).containsEntry("train", 300).containsEntry("test", 300).containsEntry("unlabeled", 300);
        ObjectMapper json = new ObjectMapper();
        List<String> test = Files.readAllLines(root.resolve("test.jsonl"));
        assertThat(test).hasSize(300);
        for (String line : test) {
            @SuppressWarnings("unchecked")
            Map<String, String> row = json.readValue(line, Map.class);
            assertThat(row.get("label")).startsWith("noun.");
            assertThat(row.get("text")).isNotBlank().doesNotStartWith("\"").doesNotEndWith("\"");
            assertThat(WordNet.isTest(row.get("id").substring("wordnet/noun/".length()))).isTrue();
        }
        assertThat(Files.readAllLines(root.resolve("train.jsonl")))
                .noneMatch(l -> WordNet.isTest(l.replaceAll(".*\"id\":\"wordnet/noun/(\\d{8})\".*", "$1")));
        assertThat(Files.readString(root.resolve("unlabeled.jsonl"))).contains("\"id\":\"wordnet/noun/00001740\"");
    }

    @Test
    void wholeNounFileSplitsAboutOneInFive() throws IOException {
        assumeTrue(Files.isDirectory(WordNet.DEFAULT_DIR), "wordnet-base not installed");
        List<WordNet.Synset> nouns = new WordNet().read("noun");
        assertThat(nouns).hasSize(82115); // WordNet 3.0 noun synsets
        long test = nouns.stream().filter(s -> WordNet.isTest(s.offset())).count();
        assertThat((double) test / nouns.size()).isBetween(0.18, 0.22);
        assertThat(nouns.stream().map(WordNet.Synset::lexName).distinct().count()).isEqualTo(26);
    }
}
