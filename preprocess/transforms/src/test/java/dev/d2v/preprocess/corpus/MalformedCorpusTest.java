package dev.d2v.preprocess.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/**
 * Every raw input of the corpus through the preprocessing transform of its modality, as the Flink job runs it:
 * good ones give samples, bad ones fail with the stage the corpus names. (The whole pipeline sees the same corpus in
 * pipelines' MalformedInputPipelineTest.)
 */
class MalformedCorpusTest {

    /** The stage a record ends in: null when it gives samples, else the job's dead-letter stage. */
    static String outcome(SampleTransformer t, MalformedCorpus.Raw r) {
        List<String> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (Header h : r.headers()) {
            keys.add(h.key());
            values.add(h.value());
        }
        RawRecord raw = new RawRecord("d2v.raw." + r.modality().id(), 0, 0, 0, r.key(), r.value(),
                keys.toArray(String[]::new), values.toArray(byte[][]::new));
        try {
            assertThat(t.apply(raw)).as(r.name()).isNotEmpty();
            return null;
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {   // as TransformFunction catches
            return t.stage(e);
        }
    }

    static Map<Modality, SampleTransformer> transformers() {
        TextTransformConfig text = TextTransformConfig.defaults();
        Vocabulary vocab = Vocabulary.build(List.of("a small dog runs across the green field", "the cat sleeps all day"),
                new TextAnalysis(text.analyzer()), text);
        Map<Modality, SampleTransformer> t = new EnumMap<>(Modality.class);
        t.put(Modality.IMAGE, TransformSpec.defaults(Modality.IMAGE, 0).open());
        t.put(Modality.AUDIO, TransformSpec.defaults(Modality.AUDIO, 0).open());
        t.put(Modality.TEXT, TransformSpec.text(text, vocab, 0).open());
        return t;
    }

    @Test
    void everyRawInputEndsWhereTheCorpusSays() {
        List<MalformedCorpus.Raw> corpus = MalformedCorpus.raw();
        Map<Modality, SampleTransformer> t = transformers();
        Map<String, String> wrong = new TreeMap<>();
        for (MalformedCorpus.Raw r : corpus) {
            if (r.tooLargeForKafka()) {
                continue;   // never reaches a topic: ingest refuses it
            }
            String got = outcome(t.get(r.modality()), r);
            if (got == null ? r.expected() != null : !got.equals(r.expected())) {
                wrong.put(r.modality().id() + "/" + r.name(), "expected " + r.expected() + ", got " + got);
            }
        }
        assertThat(wrong).as("inputs that did not end where expected").isEmpty();
    }

    @Test
    void theCorpusIsLargeAndCoversEveryKind() {
        List<MalformedCorpus.Raw> corpus = MalformedCorpus.raw();
        List<MalformedCorpus.Batch> batches = MalformedCorpus.minibatches(1, 2, 3, 100);
        long bad = corpus.stream().filter(r -> !r.good()).count() + batches.size();
        assertThat(bad).isGreaterThanOrEqualTo(60);
        assertThat(corpus.stream().filter(MalformedCorpus.Raw::good).count()).isGreaterThanOrEqualTo(20);
        assertThat(corpus.stream().map(r -> r.modality().id() + "/" + r.name())).doesNotHaveDuplicates();
        assertThat(corpus.stream().filter(r -> r.good()).map(MalformedCorpus.Raw::id)).doesNotHaveDuplicates();
    }
}
