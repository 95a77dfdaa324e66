package dev.d2v.preprocess.transform.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.preprocess.transform.BadRecordException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTransformTest {

    private static final TextTransformConfig CFG = TextTransformConfig.defaults().withVocab(4, 64).withBlocks(8, false, 3);
    private static final List<String> CORPUS = List.of(
            "the cat sat", "the dog sat", "The Cat ran", "a bird", "zebra yak");

    @Test
    void standardChainLowercasesAndFoldsAccents() {
        try (TextAnalysis a = new TextAnalysis(TextTransformConfig.AnalyzerKind.STANDARD)) {
            assertThat(a.tokens("Café CRÈME, naïve Straße!")).containsExactly("cafe", "creme", "naive", "strasse");
        }
    }

    @Test
    void icuChainSegmentsThaiWithoutSpaces() {
        try (TextAnalysis icu = new TextAnalysis(TextTransformConfig.AnalyzerKind.ICU);
                TextAnalysis std = new TextAnalysis(TextTransformConfig.AnalyzerKind.STANDARD)) {
            String thai = "ภาษาไทยง่ายนิดเดียว";
            assertThat(icu.tokens(thai).size()).isGreaterThan(1);
            assertThat(icu.tokens(thai).size()).isGreaterThan(std.tokens(thai).size());
            assertThat(icu.tokens("Café Bar")).containsExactly("cafe", "bar");
        }
    }

    @Test
    void vocabularyIsTopNByFrequencyWithLexicalTieBreakWhateverTheOrder() {
        try (TextAnalysis a = new TextAnalysis(CFG.analyzer())) {
            Vocabulary v = Vocabulary.build(CORPUS, a, CFG);
            // counts: the 3, cat 2, sat 2, then six words once: "a" wins the tie lexically
            assertThat(v.wordCount()).isEqualTo(4);
            assertThat(v.id("the")).isEqualTo(5);
            assertThat(v.id("cat")).isEqualTo(6);
            assertThat(v.id("sat")).isEqualTo(7);
            assertThat(v.id("a")).isEqualTo(8);
            assertThat(v.size()).isEqualTo(5 + 4 + 64);
            List<String> shuffled = new ArrayList<>(CORPUS);
            Collections.shuffle(shuffled, new Random(1));
            Vocabulary again = Vocabulary.build(shuffled, a, CFG);
            assertThat(again.contentHash()).isEqualTo(v.contentHash());
            assertThat(Vocabulary.build(List.of("other words"), a, CFG).contentHash()).isNotEqualTo(v.contentHash());
        }
    }

    @Test
    void unknownWordsHashIntoStableDistinctBuckets() {
        try (TextAnalysis a = new TextAnalysis(CFG.analyzer())) {
            Vocabulary v = Vocabulary.build(CORPUS, a, CFG);
            Set<Integer> ids = new HashSet<>();
            for (String w : List.of("apple", "banana", "cherry", "durian", "elder", "fig", "grape", "kiwi")) {
                int id = v.id(w);
                assertThat(id).isBetween(9, 9 + 63); // after specials and the 4 words
                assertThat(v.id(w)).isEqualTo(id);
                ids.add(id);
            }
            assertThat(ids.size()).isGreaterThanOrEqualTo(6); // 8 words in 64 buckets: few collisions
            assertThat(v.token(v.id("apple"))).startsWith("[BUCKET ");
            Vocabulary noBuckets = Vocabulary.build(CORPUS, a, CFG.withVocab(4, 0));
            assertThat(noBuckets.id("apple")).isEqualTo(Vocabulary.UNK);
        }
    }

    @Test
    void storedVocabularyRoundTripsAndDetectsEdits(@TempDir Path dir) throws Exception {
        try (TextAnalysis a = new TextAnalysis(CFG.analyzer())) {
            Vocabulary v = Vocabulary.build(List.of("tab\\slash café x", "x"), a, CFG.withVocab(10, 8));
            Path file = dir.resolve("vocab.txt");
            v.save(file);
            Vocabulary back = Vocabulary.load(file);
            assertThat(back.contentHash()).isEqualTo(v.contentHash());
            assertThat(back.size()).isEqualTo(v.size());
            for (int id = 0; id < v.size(); id++) {
                assertThat(back.token(id)).isEqualTo(v.token(id));
            }
            String text = Files.readString(file);
            assertThat(text).startsWith("d2v-vocab 1\n");
            Files.writeString(file, text.replace("\ncafe\t", "\ncafes\t"));
            assertThatThrownBy(() -> Vocabulary.load(file)).hasMessageContaining("content hash");
            Files.writeString(file, text.replace("d2v-vocab 1", "d2v-vocab 99"));
            assertThatThrownBy(() -> Vocabulary.load(file)).hasMessageContaining("format version 99");
        }
    }

    @Test
    void vocabularyBytesAreTheFileAndLoadWithTheFilesChecks(@TempDir Path dir) throws Exception {
        try (TextAnalysis a = new TextAnalysis(CFG.analyzer())) {
            Vocabulary v = Vocabulary.build(List.of("tab\\slash café x", "x"), a, CFG.withVocab(10, 8));
            Path file = dir.resolve("vocab.txt");
            v.save(file);
            byte[] bytes = v.toBytes();
            assertThat(bytes).isEqualTo(Files.readAllBytes(file));
            Vocabulary back = Vocabulary.load(bytes, "in memory");
            assertThat(back.contentHash()).isEqualTo(v.contentHash());
            for (int id = 0; id < v.size(); id++) {
                assertThat(back.token(id)).isEqualTo(v.token(id));
            }
            byte[] edited = new String(bytes, StandardCharsets.UTF_8).replace("\ncafe\t", "\ncafes\t")
                    .getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> Vocabulary.load(edited, "in memory"))
                    .hasMessageStartingWith("vocabulary in memory: content hash");
            byte[] malformed = bytes.clone();
            malformed[malformed.length - 3] = (byte) 0xff; // in the last count: not UTF-8
            assertThatThrownBy(() -> Vocabulary.load(malformed, "in memory")).hasMessage("cannot read vocabulary in memory");
        }
    }

    @Test
    void escapingRoundTrips() {
        String s = "a\\b\tc\nd\re";
        assertThat(Vocabulary.unescape(Vocabulary.escape(s))).isEqualTo(s);
        assertThat(Vocabulary.escape(s)).doesNotContain("\t", "\n", "\r");
    }

    private static TextEncoder encoder(TextTransformConfig cfg) {
        TextAnalysis a = new TextAnalysis(cfg.analyzer());
        return new TextEncoder(cfg, a, Vocabulary.build(CORPUS, a, cfg));
    }

    @Test
    void blocksStartWithClsEndWithSepAndArePadded() {
        List<TokenBlock> blocks = encoder(CFG).encode("The cat sat".getBytes(StandardCharsets.UTF_8));
        assertThat(blocks).hasSize(1);
        TokenBlock b = blocks.get(0);
        assertThat(b.validLength()).isEqualTo(5);
        assertThat(b.ids()).containsExactly(Vocabulary.CLS, 5, 6, 7, Vocabulary.SEP, 0, 0, 0);
    }

    @Test
    void longTextIsTruncatedOrSplit() {
        byte[] text = "the cat sat the dog sat the cat ran a bird zebra yak the end".getBytes(StandardCharsets.UTF_8);
        // 15 tokens, 6 per block of 8
        List<TokenBlock> truncated = encoder(CFG).encode(text);
        assertThat(truncated).hasSize(1);
        assertThat(truncated.get(0).validLength()).isEqualTo(8);
        assertThat(truncated.get(0).ids()[7]).isEqualTo(Vocabulary.SEP);
        List<TokenBlock> split = encoder(CFG.withBlocks(8, true, 5)).encode(text);
        assertThat(split).extracting(TokenBlock::validLength).containsExactly(8, 8, 5);
        assertThat(split.get(1).ids()[1]).isEqualTo(5); // 7th token is "the"
        assertThat(encoder(CFG.withBlocks(8, true, 2)).encode(text)).hasSize(2);
    }

    @Test
    void invalidUtf8EmptyAndOversizedAreBadRecords() {
        TextEncoder e = encoder(CFG);
        assertReason(() -> e.encode(new byte[] {'o', 'k', (byte) 0xC3, (byte) 0x28}), BadRecordException.INVALID_UTF8);
        assertReason(() -> e.encode(new byte[] {(byte) 0xE2, (byte) 0x82}), BadRecordException.INVALID_UTF8); // cut
        assertReason(() -> e.encode(new byte[0]), BadRecordException.EMPTY);
        assertReason(() -> e.encode(" ,;! ".getBytes(StandardCharsets.UTF_8)), BadRecordException.EMPTY);
        TextEncoder small = encoder(new TextTransformConfig(TextTransformConfig.AnalyzerKind.STANDARD, 4, 8, 8, false, 1, 10));
        assertReason(() -> small.encode("01234567890".getBytes(StandardCharsets.UTF_8)), BadRecordException.OVERSIZED);
        assertThat(TextEncoder.decodeUtf8("\uFEFFcafé".getBytes(StandardCharsets.UTF_8), 100)).isEqualTo("café");
    }

    @Test
    void vocabularyMustMatchTheConfiguredAnalyzer() {
        TextAnalysis a = new TextAnalysis(TextTransformConfig.AnalyzerKind.STANDARD);
        Vocabulary v = Vocabulary.build(CORPUS, a, CFG);
        assertThatThrownBy(() -> new TextEncoder(CFG.withAnalyzer(TextTransformConfig.AnalyzerKind.ICU), a, v))
                .hasMessageContaining("analyzer");
    }

    static void assertReason(ThrowingCallable call, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(BadRecordException.class,
                ex -> assertThat(ex.reason()).isEqualTo(reason));
    }

    @Test
    void configHashIsStableAndSensitive() {
        assertThat(CFG.hash()).isEqualTo(TextTransformConfig.defaults().withVocab(4, 64).withBlocks(8, false, 3).hash());
        assertThat(CFG.withBlocks(16, false, 3).hash()).isNotEqualTo(CFG.hash());
        assertThat(CFG.withAnalyzer(TextTransformConfig.AnalyzerKind.ICU).hash()).isNotEqualTo(CFG.hash());
    }
}
