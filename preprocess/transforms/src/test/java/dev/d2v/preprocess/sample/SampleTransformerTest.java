package dev.d2v.preprocess.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.infra.wire.WireFormatException;
import dev.d2v.preprocess.batch.BatchAssembler;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class SampleTransformerTest {

    @TempDir
    Path dir;

    private static RawRecord raw(String id, byte[] value, Headers headers) {
        Header[] hs = headers.toArray();
        String[] keys = new String[hs.length];
        byte[][] values = new byte[hs.length][];
        for (int i = 0; i < hs.length; i++) {
            keys[i] = hs[i].key();
            values[i] = hs[i].value();
        }
        return new RawRecord("t", 0, 7, 1234, id == null ? null : id.getBytes(StandardCharsets.UTF_8), value, keys, values);
    }

    private static Headers headers(Modality m, String label, String split) {
        return new RawHeaders(m.defaultContentType(), "test", Optional.ofNullable(label), Optional.ofNullable(split), 99)
                .toKafka();
    }

    /** A w x h gray PNG with a fixed pattern. */
    public static byte[] png(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x * 7 + y * 3) % 256);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** 16-bit mono PCM WAV of n samples of a 440 Hz tone. */
    public static byte[] wav(int rate, int n) {
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * n).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1).putInt(rate)
                .putInt(2 * rate).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * n);
        for (int i = 0; i < n; i++) {
            b.putShort((short) Math.round(10000 * Math.sin(2 * Math.PI * 440 * i / rate)));
        }
        return b.array();
    }

    @Test
    void imageRecordBecomesOneUint8ChwSampleWithLabelAndEventTime() throws Exception {
        TransformSpec spec = TransformSpec.image(ImageTransformConfig.defaults(), 0);
        List<Sample> out = spec.open().apply(raw("img-1", png(40, 30), headers(Modality.IMAGE, "3", null)));
        assertThat(out).hasSize(1);
        Sample s = out.get(0);
        assertThat(s.sampleId()).isEqualTo("img-1");
        assertThat(s.payload()).hasSize(28 * 28); // [1, 28, 28] uint8
        assertThat(s.validLength()).isEqualTo(1);
        assertThat(s.label()).isEqualTo(3);
        assertThat(s.eventTimeMs()).isEqualTo(99);
        assertThat(spec.dtype()).isEqualTo(DType.UINT8);
        assertThat(spec.sampleShape()).containsExactly(1, 28, 28);
    }

    @Test
    void trainRecordsAreSeededBySampleIdAndEpochAndTestRecordsAreDeterministic() throws Exception {
        byte[] img = png(64, 48);
        SampleTransformer e0 = TransformSpec.image(ImageTransformConfig.defaults(), 0).open();
        SampleTransformer e1 = TransformSpec.image(ImageTransformConfig.defaults(), 1).open();
        byte[] a = e0.apply(raw("x", img, headers(Modality.IMAGE, null, "train"))).get(0).payload();
        byte[] again = e0.apply(raw("x", img, headers(Modality.IMAGE, null, "train"))).get(0).payload();
        byte[] otherEpoch = e1.apply(raw("x", img, headers(Modality.IMAGE, null, "train"))).get(0).payload();
        assertThat(again).isEqualTo(a); // a replay is identical
        assertThat(otherEpoch).isNotEqualTo(a); // a new epoch draws a new crop
        byte[] test0 = e0.apply(raw("x", img, headers(Modality.IMAGE, null, "test"))).get(0).payload();
        byte[] test1 = e1.apply(raw("y", img, headers(Modality.IMAGE, null, "test"))).get(0).payload();
        assertThat(test1).isEqualTo(test0); // EVAL ignores id and epoch
        assertThat(SampleTransformer.mode(Optional.of("Validation"))).isEqualTo(Mode.EVAL);
        assertThat(SampleTransformer.mode(Optional.empty())).isEqualTo(Mode.TRAIN);
    }

    @Test
    void audioRecordBecomesFp16FramesWithItsValidLength() {
        AudioTransformConfig cfg = AudioTransformConfig.defaults().withFrames(50);
        TransformSpec spec = TransformSpec.audio(cfg, 0);
        // 0.3 s at 16 kHz: 1 + (4800 - 400) / 160 = 28 valid frames of 50
        Sample s = spec.open().apply(raw("a", wav(16000, 4800), headers(Modality.AUDIO, null, null))).get(0);
        assertThat(s.payload()).hasSize(50 * 80 * 2);
        assertThat(s.validLength()).isEqualTo(28);
        assertThat(s.label()).isEqualTo(-1);
        Minibatch mb = BatchAssembler.assemble(spec.batchSpec(4, 1000), List.of(s));
        assertThat(mb.shape()).containsExactly(1, 50, 80);
        assertThat(mb.dtype()).isEqualTo(DType.FP16);
        assertThat(mb.partial()).isTrue();
        float[] v = mb.toFloatArray();
        assertThat(v[28 * 80]).isZero(); // padding frames are zeros
        assertThat(v[0]).isNotZero();
    }

    @Test
    void splitTextGivesOneSamplePerBlockWithSuffixedIds() {
        TextTransformConfig cfg = TextTransformConfig.defaults().withBlocks(4, true, 3);
        Path vocab = dir.resolve("v.txt");
        try (TextAnalysis a = new TextAnalysis(cfg.analyzer())) {
            Vocabulary.build(List.of("one two three four five"), a, cfg).save(vocab);
        }
        TransformSpec spec = TransformSpec.text(cfg, vocab, 0);
        List<Sample> out = spec.open().apply(raw("doc", "one two three four five".getBytes(StandardCharsets.UTF_8),
                headers(Modality.TEXT, "not-a-number", null)));
        // blocks of 4 = [CLS] t t [SEP]: 5 tokens -> 3 blocks
        assertThat(out).extracting(Sample::sampleId).containsExactly("doc", "doc#1", "doc#2");
        assertThat(out).extracting(Sample::validLength).containsExactly(4, 4, 3);
        assertThat(out).extracting(Sample::label).containsOnly(-1);
        assertThat(spec.configHash()).isNotEqualTo(cfg.hash()); // the vocabulary is part of it
    }

    @Test
    void aRecordFromOutsideKafkaCarriesItsHeaders() throws Exception {
        RawHeaders h = new RawHeaders("image/png", "file:/x.png", Optional.of("5"), Optional.of("test"), 42);
        RawRecord r = RawRecord.of("x", png(8, 8), h);
        assertThat(r.sampleId()).isEqualTo("x");
        assertThat(RawHeaders.fromKafka(r.kafkaHeaders())).isEqualTo(h);
        Sample s = TransformSpec.image(ImageTransformConfig.defaults(), 0).open().apply(r).get(0);
        assertThat(s.label()).isEqualTo(5);
        assertThat(s.eventTimeMs()).isEqualTo(42);
    }

    @Test
    void failuresNameTheirStage() throws Exception {
        SampleTransformer t = TransformSpec.image(ImageTransformConfig.defaults(), 0).open();
        byte[] tiny = png(4, 4);
        BadRecordException noKey = catchBad(() -> t.apply(raw(null, tiny, headers(Modality.IMAGE, null, null))));
        assertThat(noKey.reason()).isEqualTo(SampleTransformer.MISSING_KEY);
        BadRecordException garbage = catchBad(() -> t.apply(raw("g", new byte[] {1, 2, 3}, headers(Modality.IMAGE, null, null))));
        assertThat(t.stage(garbage)).isEqualTo("preprocess.image.undecodable-image");
        assertThatThrownBy(() -> t.apply(raw("h", tiny, new RecordHeaders())))
                .isInstanceOf(WireFormatException.class)
                .satisfies(e -> assertThat(t.stage(e)).isEqualTo("preprocess.image.headers"));
        assertThat(t.stage(new IllegalStateException())).isEqualTo("preprocess.image.transform");
    }

    @Test
    void aKeyTooLongOrNotUtf8IsABadRecordNotABatchThatCannotBeWritten() throws Exception {
        SampleTransformer t = TransformSpec.image(ImageTransformConfig.defaults(), 0).open();
        byte[] tiny = png(4, 4);
        Headers h = headers(Modality.IMAGE, null, null);
        // 70,000 characters: a minibatch writes an id with a u16 length, so this key used to fail the batcher
        String huge = "k".repeat(70_000);
        BadRecordException longKey = catchBad(() -> t.apply(raw(huge, tiny, h)));
        assertThat(longKey.reason()).isEqualTo(SampleTransformer.INVALID_KEY);
        assertThat(t.stage(longKey)).isEqualTo("preprocess.image.invalid-key");
        assertThat(longKey.getMessage()).contains("70000 bytes").contains(Integer.toString(SampleTransformer.MAX_KEY_BYTES));
        String longest = "k".repeat(SampleTransformer.MAX_KEY_BYTES);
        assertThat(t.apply(raw(longest, tiny, h)).get(0).sampleId()).isEqualTo(longest);
        RawRecord good = raw("x", tiny, h);
        RawRecord notUtf8 = new RawRecord("t", 0, 7, 0, new byte[] {'a', (byte) 0xff, 'b'}, tiny, good.headerKeys(),
                good.headerValues());
        BadRecordException badKey = catchBad(() -> t.apply(notUtf8));
        assertThat(badKey.reason()).isEqualTo(SampleTransformer.INVALID_KEY);
        assertThat(badKey.getMessage()).contains("not UTF-8");
        BadRecordException empty = catchBad(() -> t.apply(raw("", tiny, h)));
        assertThat(empty.reason()).isEqualTo(SampleTransformer.MISSING_KEY);
    }

    @Test
    void anErrorOfTheHeapOrStackIsAResourceLimit() throws Exception {
        SampleTransformer t = TransformSpec.image(ImageTransformConfig.defaults(), 0).open();
        assertThat(t.stage(new OutOfMemoryError("Java heap space"))).isEqualTo("preprocess.image.resource-limit");
        assertThat(t.stage(new StackOverflowError())).isEqualTo("preprocess.image.resource-limit");
    }

    private static BadRecordException catchBad(Runnable r) {
        try {
            r.run();
        } catch (BadRecordException e) {
            return e;
        }
        throw new AssertionError("expected a BadRecordException");
    }
}
