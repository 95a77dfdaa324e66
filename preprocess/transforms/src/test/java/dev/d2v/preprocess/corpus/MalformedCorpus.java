package dev.d2v.preprocess.corpus;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A generated corpus of malformed and unusual inputs for every stage, each with what the pipeline must do with it:
 * train it ({@code expected == null}) or dead-letter it with a given stage ({@code preprocess.image.image-too-large},
 * {@code train.text.token-range}, ...). Generated, not stored: every input is built here from its description, so a
 * reader sees what it is and a change of the formats' writers cannot rot a binary fixture.
 *
 * <p>Raw records ({@link #raw()}) go to d2v.raw.&lt;modality&gt;; the ones larger than a Kafka record may be
 * ({@link Raw#tooLargeForKafka()}) go through ingest, which refuses them; minibatches ({@link #minibatches}) go to
 * d2v.batch.&lt;modality&gt; directly.
 */
public final class MalformedCorpus {

    private MalformedCorpus() {}

    /**
     * One raw record: key bytes (null: none), value, headers, and the dead-letter stage it must end in (null: a good
     * record, trained once).
     */
    public record Raw(String name, Modality modality, byte[] key, byte[] value, Headers headers, String expected) {
        public boolean good() {
            return expected == null;
        }

        /** Above the largest record a topic takes: only ingest sees it (and dead-letters it). */
        public boolean tooLargeForKafka() {
            return expected != null && expected.startsWith("ingest.");
        }

        /** The key as a sample id (a good record has a UTF-8 key). */
        public String id() {
            return key == null ? null : new String(key, StandardCharsets.UTF_8);
        }
    }

    /** A minibatch record for a batch topic, and the dead-letter stage it must end in. */
    public record Batch(String name, Modality modality, byte[] value, String expected) {}

    // ---- raw records ----

    /** Every raw input: at least 20 images, 20 audio files, 12 texts and 10 key and header cases. */
    public static List<Raw> raw() {
        List<Raw> out = new ArrayList<>();
        out.addAll(images());
        out.addAll(audio());
        out.addAll(texts());
        out.addAll(keysAndHeaders());
        return out;
    }

    static Headers headers(Modality m, String contentType) {
        return new RawHeaders(contentType, "corpus:" + m.id(), Optional.empty(), Optional.empty(), 1_700_000_000_000L)
                .toKafka();
    }

    private static Raw raw(String name, Modality m, String contentType, byte[] value, String expected) {
        return new Raw(name, m, ("corpus/" + m.id() + "/" + name).getBytes(StandardCharsets.UTF_8), value,
                headers(m, contentType), expected);
    }

    private static String pre(Modality m, String reason) {
        return "preprocess." + m.id() + "." + reason;
    }

    static List<Raw> images() {
        Modality m = Modality.IMAGE;
        String bad = pre(m, "undecodable-image");
        String huge = pre(m, "image-too-large");
        byte[] png = encode(noise(40, 32, BufferedImage.TYPE_BYTE_GRAY, 1), "png");
        byte[] jpeg = encode(noise(64, 48, BufferedImage.TYPE_INT_RGB, 2), "jpg");
        List<Raw> out = new ArrayList<>();
        out.add(raw("png-gray", m, "image/png", png, null));
        out.add(raw("png-rgb", m, "image/png", encode(noise(30, 30, BufferedImage.TYPE_INT_RGB, 3), "png"), null));
        out.add(raw("png-rgba", m, "image/png", encode(noise(28, 28, BufferedImage.TYPE_INT_ARGB, 4), "png"), null));
        out.add(raw("png-16-bit", m, "image/png", encode(noise(32, 32, BufferedImage.TYPE_USHORT_GRAY, 5), "png"), null));
        out.add(raw("png-1x1", m, "image/png", encode(noise(1, 1, BufferedImage.TYPE_BYTE_GRAY, 6), "png"), null));
        out.add(raw("png-5000x3", m, "image/png", encode(noise(5000, 3, BufferedImage.TYPE_BYTE_GRAY, 7), "png"), null));
        out.add(raw("jpeg", m, "image/jpeg", jpeg, null));
        out.add(raw("jpeg-cmyk", m, "image/jpeg", cmykJpeg(), null));
        out.add(raw("gif", m, "image/gif", encode(noise(20, 24, BufferedImage.TYPE_BYTE_INDEXED, 8), "gif"), null));
        out.add(raw("gif-animated", m, "image/gif", animatedGif(), null));
        out.add(raw("bmp", m, "image/bmp", encode(noise(26, 22, BufferedImage.TYPE_3BYTE_BGR, 9), "bmp"), null));
        out.add(raw("tiff", m, "image/tiff", encode(noise(24, 24, BufferedImage.TYPE_BYTE_GRAY, 10), "tiff"), null));
        out.add(raw("wrong-extension", m, "image/jpeg", png, null));   // PNG bytes named .jpg: the bytes decide
        out.add(raw("zero-bytes", m, "image/png", new byte[0], pre(m, "empty")));
        out.add(raw("png-truncated", m, "image/png", Arrays.copyOf(png, png.length / 2), bad));
        out.add(raw("png-header-only", m, "image/png", Arrays.copyOf(png, 33), bad));
        out.add(raw("jpeg-truncated", m, "image/jpeg", Arrays.copyOf(jpeg, jpeg.length / 2), bad));
        out.add(raw("junk", m, "image/png", junk(3000, 11), bad));
        out.add(raw("text-as-image", m, "image/png", "this is not an image".getBytes(StandardCharsets.UTF_8), bad));
        out.add(raw("wav-as-image", m, "image/png", pcmWav(16000, 1, 16, sine(16000, 0.1)), bad));
        out.add(raw("bomb-100000x100000", m, "image/png", pngWithSize(png, 100_000, 100_000), huge));
        out.add(raw("bomb-9000x9000", m, "image/png", pngWithSize(png, 9_000, 9_000), huge));
        out.add(raw("png-bad-crc", m, "image/png", corruptIdat(png), bad));
        out.add(raw("png-0x0", m, "image/png", pngWithSize(png, 0, 0), bad));
        byte[] gif = encode(noise(20, 24, BufferedImage.TYPE_BYTE_INDEXED, 8), "gif");
        out.add(raw("gif-truncated", m, "image/gif", Arrays.copyOf(gif, gif.length / 2), bad));
        byte[] bmp = encode(noise(26, 22, BufferedImage.TYPE_3BYTE_BGR, 9), "bmp");
        out.add(raw("bmp-truncated", m, "image/bmp", Arrays.copyOf(bmp, bmp.length / 2), bad));
        out.add(raw("jpeg-header-only", m, "image/jpeg", Arrays.copyOf(jpeg, 20), bad));
        out.add(raw("webp-header", m, "image/webp", riffWebp(), bad));
        out.add(raw("svg", m, "image/svg+xml", utf8("<svg xmlns='http://www.w3.org/2000/svg' width='28' height='28'/>"),
                bad));
        return out;
    }

    static List<Raw> audio() {
        Modality m = Modality.AUDIO;
        String truncated = pre(m, "truncated-audio");
        String unsupported = pre(m, "unsupported-audio");
        String implausible = pre(m, "implausible-audio");
        byte[] wav = pcmWav(16000, 1, 16, sine(16000, 0.5));
        List<Raw> out = new ArrayList<>();
        out.add(raw("pcm16-16k", m, "audio/wav", wav, null));
        out.add(raw("pcm16-5s-48k", m, "audio/wav", pcmWav(48000, 1, 16, sine(48000, 5.0)), null));
        out.add(raw("pcm8", m, "audio/wav", pcmWav(16000, 1, 8, sine(16000, 0.3)), null));
        out.add(raw("pcm24", m, "audio/wav", pcmWav(16000, 1, 24, sine(16000, 0.3)), null));
        out.add(raw("pcm32", m, "audio/wav", pcmWav(16000, 1, 32, sine(16000, 0.3)), null));
        out.add(raw("float32", m, "audio/wav", floatWav(22050, 1, 32, sine(22050, 0.3)), null));
        out.add(raw("float64", m, "audio/wav", floatWav(8000, 1, 64, sine(8000, 0.3)), null));
        out.add(raw("stereo-44k", m, "audio/wav", pcmWav(44100, 2, 16, sine(44100 * 2, 0.4)), null));
        out.add(raw("8k", m, "audio/wav", pcmWav(8000, 1, 16, sine(8000, 1.0)), null));
        out.add(raw("ten-samples", m, "audio/wav", pcmWav(16000, 1, 16, sine(16000, 10 / 16000.0)), null));
        out.add(raw("riff-claims-2gb", m, "audio/wav", withRiffSize(wav, 0x7fff_fff0), null));   // the RIFF size is not used
        out.add(raw("zero-bytes", m, "audio/wav", new byte[0], pre(m, "empty")));
        out.add(raw("no-samples", m, "audio/wav", pcmWav(16000, 1, 16, new byte[0]), pre(m, "empty")));
        out.add(raw("truncated", m, "audio/wav", Arrays.copyOf(wav, wav.length / 2), truncated));
        out.add(raw("header-only", m, "audio/wav", Arrays.copyOf(wav, 44), truncated));
        out.add(raw("data-claims-2gb", m, "audio/wav", withDataSize(wav, 0x7fff_fff0L), truncated));
        out.add(raw("chunk-of-4gb", m, "audio/wav", withChunkBeforeData(wav, 0xffff_fff0L), truncated));
        out.add(raw("rate-1hz", m, "audio/wav", pcmWav(1, 1, 16, sine(4000, 0.1)), implausible));
        out.add(raw("rate-1mhz", m, "audio/wav", pcmWav(1_000_000, 1, 16, sine(4000, 0.1)), implausible));
        out.add(raw("hours-long", m, "audio/wav", pcmWav(4000, 1, 8, new byte[2 * 4000 * 3601]), implausible));
        out.add(raw("mu-law", m, "audio/wav", wav(7, 1, 8000, 8, sine(8000, 0.1), null), unsupported));
        out.add(raw("ima-adpcm", m, "audio/wav", wav(0x11, 1, 8000, 4, junk(2000, 12), null), unsupported));
        out.add(raw("no-channels", m, "audio/wav", wav(1, 0, 16000, 16, sine(16000, 0.1), null), unsupported));
        out.add(raw("nan-samples", m, "audio/wav", wav(3, 1, 16000, 32, nanFloats(8000), null), pre(m, "non-finite-audio")));
        out.add(raw("mp3-as-wav", m, "audio/wav", id3Junk(), pre(m, "not-wav")));
        out.add(raw("data-before-fmt", m, "audio/wav", dataBeforeFmt(wav), pre(m, "not-wav")));
        out.add(raw("float16", m, "audio/wav", wav(3, 1, 16000, 16, sine(16000, 0.1), null), unsupported));
        out.add(raw("pcm12", m, "audio/wav", wav(1, 1, 16000, 12, sine(16000, 0.1), null), unsupported));
        out.add(raw("rate-0", m, "audio/wav", pcmWav(0, 1, 16, sine(16000, 0.1)), unsupported));
        out.add(raw("block-align-wrong", m, "audio/wav", withBlockAlign(wav, 3), unsupported));
        out.add(raw("png-as-wav", m, "audio/wav", encode(noise(8, 8, BufferedImage.TYPE_BYTE_GRAY, 13), "png"),
                pre(m, "not-wav")));
        return out;
    }

    static List<Raw> texts() {
        Modality m = Modality.TEXT;
        List<Raw> out = new ArrayList<>();
        out.add(raw("plain", m, "text/plain", utf8("a small dog runs across the green field"), null));
        out.add(raw("unicode", m, "text/plain", utf8("Ærøskøbing ist eine Stadt in Dänemark; 東京 is a city"), null));
        out.add(raw("emoji-and-words", m, "text/plain", utf8("the cat 🐈 sleeps 😴 all day"), null));
        out.add(raw("nul-inside", m, "text/plain", utf8("before\u0000after the nul byte"), null));
        out.add(raw("control-chars", m, "text/plain", utf8("tab\there\r\nnew line\u0007bell"), null));
        out.add(raw("long-100kb", m, "text/plain", utf8("word ".repeat(20_000)), null));
        out.add(raw("invalid-utf8", m, "text/plain", new byte[] {'a', 'b', (byte) 0xc3, '(', 'z'}, pre(m, "invalid-utf8")));
        out.add(raw("overlong-utf8", m, "text/plain", new byte[] {'a', (byte) 0xc0, (byte) 0x80, 'b'}, pre(m, "invalid-utf8")));
        out.add(raw("utf8-surrogate", m, "text/plain", new byte[] {'a', (byte) 0xed, (byte) 0xa0, (byte) 0x80},
                pre(m, "invalid-utf8")));
        out.add(raw("zero-bytes", m, "text/plain", new byte[0], pre(m, "empty")));
        out.add(raw("only-whitespace", m, "text/plain", utf8(" \t\r\n   \n"), pre(m, "empty")));
        out.add(raw("only-nul", m, "text/plain", new byte[16], pre(m, "empty")));
        out.add(raw("only-zero-width", m, "text/plain", utf8("\u200b\u200c\u200d\ufeff\u2060"), pre(m, "empty")));
        out.add(raw("only-bom", m, "text/plain", new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, pre(m, "empty")));
        out.add(raw("two-megabytes", m, "text/plain", utf8("x".repeat(2 << 20)), pre(m, "oversized")));
        out.add(raw("latin-1", m, "text/plain", "caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.ISO_8859_1),
                pre(m, "invalid-utf8")));
        out.add(raw("utf-16", m, "text/plain", "two words".getBytes(StandardCharsets.UTF_16), pre(m, "invalid-utf8")));
        out.add(raw("only-punctuation", m, "text/plain", utf8("!!! ??? ... --- ;;; ***"), pre(m, "empty")));
        // 50 MB in one line: larger than a Kafka record may be, so ingest refuses it before any topic
        out.add(new Raw("line-of-50mb", m, utf8("corpus/text/line-of-50mb"), utf8("y".repeat(50 << 20)),
                headers(m, "text/plain"), "ingest.text.oversized"));
        return out;
    }

    static List<Raw> keysAndHeaders() {
        Modality m = Modality.IMAGE;
        byte[] png = encode(noise(28, 28, BufferedImage.TYPE_BYTE_GRAY, 14), "png");
        List<Raw> out = new ArrayList<>();
        out.add(new Raw("no-key", m, null, png, headers(m, "image/png"), pre(m, "missing-key")));
        out.add(new Raw("empty-key", m, new byte[0], png, headers(m, "image/png"), pre(m, "missing-key")));
        out.add(new Raw("key-of-70000", m, utf8("k".repeat(70_000)), png, headers(m, "image/png"), pre(m, "invalid-key")));
        out.add(new Raw("key-not-utf8", m, new byte[] {'k', (byte) 0xff, (byte) 0xfe}, png, headers(m, "image/png"),
                pre(m, "invalid-key")));
        out.add(new Raw("no-headers", m, utf8("corpus/keys/no-headers"), png, new RecordHeaders(), pre(m, "headers")));
        RecordHeaders future = new RecordHeaders();
        headers(m, "image/png").forEach(h -> future.add(h.key(), h.key().equals(RawHeaders.VERSION_KEY) ? utf8("99") : h.value()));
        out.add(new Raw("header-version-99", m, utf8("corpus/keys/header-version-99"), png, future, pre(m, "headers")));
        RecordHeaders garbled = new RecordHeaders();
        headers(m, "image/png").forEach(h -> garbled.add(h.key(), h.key().equals(RawHeaders.VERSION_KEY) ? new byte[] {(byte) 0xff} : h.value()));
        out.add(new Raw("header-version-garbage", m, utf8("corpus/keys/header-version-garbage"), png, garbled,
                pre(m, "headers")));
        // labels and splits are hints: nonsense in them is read as "none" / training data, and the record is good
        out.add(withExtraHeaders("label-not-a-number", png, "abc", null));
        out.add(withExtraHeaders("label-negative", png, "-5", null));
        out.add(withExtraHeaders("label-huge", png, "99999999999999999999", null));
        out.add(withExtraHeaders("split-garbage", png, null, "banana"));
        out.add(new Raw("key-of-1024", m, utf8("k".repeat(1024)), png, headers(m, "image/png"), null));
        out.add(new Raw("key-with-spaces-and-slashes", m, utf8("corpus/keys/a b/../c\\d"), png, headers(m, "image/png"),
                null));
        return out;
    }

    private static Raw withExtraHeaders(String name, byte[] png, String label, String split) {
        RawHeaders h = new RawHeaders("image/png", "corpus:keys", Optional.ofNullable(label), Optional.ofNullable(split),
                1_700_000_000_000L);
        return new Raw(name, Modality.IMAGE, utf8("corpus/keys/" + name), png, h.toKafka(), null);
    }

    // ---- minibatches ----

    /**
     * Minibatches that a trainer must refuse, each with its reason, made for a model of 1x28x28 images, 80-mel audio
     * of at most 200 frames and a vocabulary of {@code vocabSize} ids, whose preprocessing config hashes are given.
     */
    public static List<Batch> minibatches(long imageHash, long audioHash, long textHash, int vocabSize) {
        MinibatchCodec codec = MinibatchCodec.inline();
        List<Batch> out = new ArrayList<>();
        out.add(new Batch("image-32x32", Modality.IMAGE,
                codec.encode(image(imageHash, 32, "mb-shape", DType.UINT8)), "train.image.shape"));
        out.add(new Batch("image-fp16", Modality.IMAGE,
                codec.encode(image(imageHash, 28, "mb-dtype", DType.FP16)), "train.image.dtype"));
        out.add(new Batch("image-foreign-hash", Modality.IMAGE,
                codec.encode(image(imageHash ^ 0x5a5a, 28, "mb-hash", DType.UINT8)), "train.image.config-hash"));
        Minibatch twice = Minibatch.builder(Modality.IMAGE, 2, 1, 28, 28).sampleIds("mb-dup", "mb-dup")
                .preprocessConfigHash(imageHash).uint8(new byte[2 * 28 * 28]);
        out.add(new Batch("image-duplicate-ids", Modality.IMAGE, codec.encode(twice), "train.image.duplicate-ids"));
        out.add(new Batch("image-garbage", Modality.IMAGE, junk(500, 15), "train.image.undecodable"));
        byte[] future = codec.encode(image(imageHash, 28, "mb-version", DType.UINT8));
        future[5] = 0x7f;   // the low byte of the codec's 16-bit version, after the 4-byte magic: version 127
        out.add(new Batch("image-wire-version-127", Modality.IMAGE, future, "train.image.undecodable"));
        out.add(new Batch("text-on-image-topic", Modality.IMAGE,
                codec.encode(text(textHash, "mb-wrong-topic", 7)), "train.image.wrong-topic"));
        float[] nan = new float[2 * 20 * 80];
        nan[123] = Float.NaN;
        Minibatch nanAudio = Minibatch.builder(Modality.AUDIO, 2, 20, 80).sampleIds("mb-nan-0", "mb-nan-1")
                .validLengths(20, 20).preprocessConfigHash(audioHash).fp16(nan);
        out.add(new Batch("audio-nan", Modality.AUDIO, codec.encode(nanAudio), "train.audio.non-finite"));
        Minibatch longAudio = Minibatch.builder(Modality.AUDIO, 1, 400, 80).sampleIds("mb-long-audio")
                .validLengths(400).preprocessConfigHash(audioHash).fp16(new float[400 * 80]);
        out.add(new Batch("audio-400-frames", Modality.AUDIO, codec.encode(longAudio), "train.audio.shape"));
        out.add(new Batch("text-id-beyond-vocabulary", Modality.TEXT,
                codec.encode(text(textHash, "mb-token", vocabSize)), "train.text.token-range"));
        out.add(new Batch("text-negative-id", Modality.TEXT,
                codec.encode(text(textHash, "mb-negative", -3)), "train.text.token-range"));
        Minibatch longText = Minibatch.builder(Modality.TEXT, 1, 4096).sampleIds("mb-long-text").validLengths(4096)
                .preprocessConfigHash(textHash).int32(new int[4096]);
        out.add(new Batch("text-4096-tokens", Modality.TEXT, codec.encode(longText), "train.text.shape"));
        Minibatch rgb = Minibatch.builder(Modality.IMAGE, 1, 3, 28, 28).sampleIds("mb-rgb")
                .preprocessConfigHash(imageHash).uint8(new byte[3 * 28 * 28]);
        out.add(new Batch("image-3-channels", Modality.IMAGE, codec.encode(rgb), "train.image.shape"));
        Minibatch mels = Minibatch.builder(Modality.AUDIO, 1, 20, 64).sampleIds("mb-mels").validLengths(20)
                .preprocessConfigHash(audioHash).fp16(new float[20 * 64]);
        out.add(new Batch("audio-64-mels", Modality.AUDIO, codec.encode(mels), "train.audio.shape"));
        Minibatch intAudio = Minibatch.builder(Modality.AUDIO, 1, 20, 80).sampleIds("mb-int-audio").validLengths(20)
                .preprocessConfigHash(audioHash).int32(new int[20 * 80]);
        out.add(new Batch("audio-int32", Modality.AUDIO, codec.encode(intAudio), "train.audio.dtype"));
        return out;
    }

    private static Minibatch image(long hash, int size, String id, DType dtype) {
        Minibatch.Builder b = Minibatch.builder(Modality.IMAGE, 1, 1, size, size).sampleIds(id).preprocessConfigHash(hash);
        return dtype == DType.UINT8 ? b.uint8(new byte[size * size]) : b.fp16(new float[size * size]);
    }

    /** One 8-token text whose fourth id is {@code odd}. */
    private static Minibatch text(long hash, String id, int odd) {
        int[] ids = {2, 10, 11, odd, 12, 3, 0, 0};
        return Minibatch.builder(Modality.TEXT, 1, 8).sampleIds(id).validLengths(6).preprocessConfigHash(hash).int32(ids);
    }

    // ---- builders of the formats ----

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] junk(int n, long seed) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    static BufferedImage noise(int w, int h, int type, long seed) {
        BufferedImage img = new BufferedImage(w, h, type);
        WritableRaster r = img.getRaster();
        SplittableRandom rng = new SplittableRandom(seed);
        int max = type == BufferedImage.TYPE_USHORT_GRAY ? 65535 : 255;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < r.getNumBands(); c++) {
                    r.setSample(x, y, c, rng.nextInt(max + 1));
                }
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JPEG of four channels (CMYK, as print workflows write them), from a 4-band raster. */
    static byte[] cmykJpeg() {
        try {
            WritableRaster raster = noise(32, 32, BufferedImage.TYPE_4BYTE_ABGR, 16).getRaster();
            ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                w.setOutput(ios);
                w.write(null, new IIOImage(raster, null, null), null);
            } finally {
                w.dispose();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A GIF of two frames. */
    static byte[] animatedGif() {
        try {
            ImageWriter w = ImageIO.getImageWritersByFormatName("gif").next();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                w.setOutput(ios);
                w.prepareWriteSequence(null);
                for (int f = 0; f < 2; f++) {
                    BufferedImage frame = noise(16, 16, BufferedImage.TYPE_BYTE_INDEXED, 20 + f);
                    w.writeToSequence(new IIOImage(frame, null,
                            w.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null)), null);
                }
                w.endWriteSequence();
            } finally {
                w.dispose();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The PNG with its IHDR width and height replaced (CRC recomputed): a header that promises a huge raster. */
    static byte[] pngWithSize(byte[] png, int width, int height) {
        byte[] out = png.clone();
        ByteBuffer b = ByteBuffer.wrap(out);   // big-endian, as PNG
        b.putInt(16, width).putInt(20, height);
        CRC32 crc = new CRC32();
        crc.update(out, 12, 17);   // "IHDR" and its 13 bytes
        b.putInt(29, (int) crc.getValue());
        return out;
    }

    /** The PNG with one byte of its first IDAT chunk flipped: its CRC and its compressed stream no longer agree. */
    static byte[] corruptIdat(byte[] png) {
        byte[] out = png.clone();
        for (int i = 8; i + 8 < out.length; ) {
            int len = ByteBuffer.wrap(out, i, 4).getInt();
            if (out[i + 4] == 'I' && out[i + 5] == 'D' && out[i + 6] == 'A' && out[i + 7] == 'T') {
                out[i + 8 + len / 2] ^= 0x55;
                return out;
            }
            i += 12 + len;
        }
        throw new IllegalStateException("no IDAT chunk");
    }

    /** 16-bit PCM bytes of a 440 Hz tone: {@code samples} samples at 16 kHz-ish rates, as raw little-endian. */
    static byte[] sine(int samples, double seconds) {
        int n = (int) Math.round(samples * seconds);
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort((short) Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / (double) samples)));
        }
        return b.array();
    }

    /** PCM of the given depth from 16-bit samples (8 bit unsigned, 24 and 32 bit scaled up). */
    static byte[] pcmWav(int rate, int channels, int bits, byte[] pcm16) {
        ByteBuffer in = ByteBuffer.wrap(pcm16).order(ByteOrder.LITTLE_ENDIAN);
        int n = pcm16.length / 2 / channels * channels;
        ByteBuffer out = ByteBuffer.allocate(n * bits / 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            short s = in.getShort(2 * i);
            switch (bits) {
                case 8 -> out.put((byte) ((s >> 8) + 128));
                case 16 -> out.putShort(s);
                case 24 -> out.put((byte) 0).putShort(s);
                default -> out.putInt(s << 16);
            }
        }
        return wav(1, channels, rate, bits, out.array(), null);
    }

    /** IEEE float samples (32 or 64 bit) from 16-bit PCM. */
    static byte[] floatWav(int rate, int channels, int bits, byte[] pcm16) {
        ByteBuffer in = ByteBuffer.wrap(pcm16).order(ByteOrder.LITTLE_ENDIAN);
        int n = pcm16.length / 2;
        ByteBuffer out = ByteBuffer.allocate(n * bits / 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float v = in.getShort(2 * i) / 32768f;
            if (bits == 32) {
                out.putFloat(v);
            } else {
                out.putDouble(v);
            }
        }
        return wav(3, channels, rate, bits, out.array(), null);
    }

    /** 32-bit float samples, one in a hundred NaN. */
    static byte[] nanFloats(int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(i % 100 == 50 ? Float.NaN : 0.1f);
        }
        return b.array();
    }

    /**
     * A RIFF/WAVE file: a fmt chunk (16 bytes, or 18 with cbSize for non-PCM codes) and a data chunk; extra, when
     * given, goes between them.
     */
    static byte[] wav(int format, int channels, int rate, int bits, byte[] data, byte[] extra) {
        int fmtLen = format == 1 || format == 3 ? 16 : 18;
        int extraLen = extra == null ? 0 : extra.length;
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtLen + extraLen + 8 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        int blockAlign = Math.max(1, channels * Math.max(1, bits / 8));
        b.put(utf8("RIFF")).putInt(b.capacity() - 8).put(utf8("WAVE"));
        b.put(utf8("fmt ")).putInt(fmtLen).putShort((short) format).putShort((short) channels).putInt(rate)
                .putInt(rate * blockAlign).putShort((short) blockAlign).putShort((short) bits);
        if (fmtLen == 18) {
            b.putShort((short) 0);
        }
        if (extra != null) {
            b.put(extra);
        }
        b.put(utf8("data")).putInt(data.length).put(data);
        return b.array();
    }

    static byte[] withRiffSize(byte[] wav, int size) {
        byte[] out = wav.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(4, size);
        return out;
    }

    /** The canonical 44-byte-header WAV with its data chunk's size field replaced. */
    static byte[] withDataSize(byte[] wav, long size) {
        byte[] out = wav.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(40, (int) size);
        return out;
    }

    /** A LIST chunk that declares {@code size} bytes (far past the file's end) before the data chunk. */
    static byte[] withChunkBeforeData(byte[] wav, long size) {
        ByteBuffer b = ByteBuffer.allocate(wav.length + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(wav, 0, 36).put(utf8("LIST")).putInt((int) size).put(utf8("INFO")).put(wav, 36, wav.length - 36);
        return b.array();
    }

    /** The 44-byte-header WAV with its block align field replaced (inconsistent with channels x bits). */
    static byte[] withBlockAlign(byte[] wav, int blockAlign) {
        byte[] out = wav.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putShort(32, (short) blockAlign);
        return out;
    }

    /** The canonical WAV with its data chunk moved before its fmt chunk. */
    static byte[] dataBeforeFmt(byte[] wav) {
        ByteBuffer b = ByteBuffer.allocate(wav.length);
        b.put(wav, 0, 12).put(wav, 36, wav.length - 36).put(wav, 12, 24);
        return b.array();
    }

    /** A RIFF/WEBP container header with a VP8 chunk of noise: no ImageIO reader here reads WebP. */
    static byte[] riffWebp() {
        byte[] body = junk(200, 18);
        ByteBuffer b = ByteBuffer.allocate(20 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(utf8("RIFF")).putInt(12 + body.length).put(utf8("WEBP")).put(utf8("VP8 ")).putInt(body.length).put(body);
        return b.array();
    }

    /** The start of an MP3 file (an ID3v2 tag, then frame sync bytes) and noise. */
    static byte[] id3Junk() {
        byte[] j = junk(4000, 17);
        byte[] head = {'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xfb};
        System.arraycopy(head, 0, j, 0, head.length);
        return j;
    }
}
