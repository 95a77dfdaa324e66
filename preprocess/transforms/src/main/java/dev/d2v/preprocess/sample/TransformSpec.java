package dev.d2v.preprocess.sample;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything a preprocessing job needs to rebuild its modality's transform on every worker: the modality,
 * its transform config, the text vocabulary file's bytes (so a cluster job needs no shared file system),
 * and the epoch that seeds augmentation together with the sample id. Serializable: it travels inside the
 * Flink job graph.
 *
 * @param epoch      augmentation seed part: the same (sample id, epoch) always gives the same crop and flip;
 *                   a rerun over the same raw records with a new epoch gives new ones
 * @param config     ImageTransformConfig, AudioTransformConfig or TextTransformConfig, matching the modality
 * @param vocabulary a vocabulary file's bytes ({@link Vocabulary#save}) for text, null otherwise
 */
public record TransformSpec(Modality modality, long epoch, Serializable config, byte[] vocabulary) implements Serializable {

    public TransformSpec {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(config, "config");
        Class<?> expected = switch (modality) {
            case IMAGE -> ImageTransformConfig.class;
            case AUDIO -> AudioTransformConfig.class;
            case TEXT -> TextTransformConfig.class;
        };
        if (!expected.isInstance(config)) {
            throw new IllegalArgumentException(modality.id() + " needs a " + expected.getSimpleName() + ", got "
                    + config.getClass().getSimpleName());
        }
        if (modality == Modality.TEXT && vocabulary == null) {
            throw new IllegalArgumentException("text preprocessing needs a vocabulary (build one with Vocabulary.build"
                    + " and save it; ./d2v preprocess builds one from the raw text topic when none is given)");
        }
    }

    public static TransformSpec image(ImageTransformConfig cfg, long epoch) {
        return new TransformSpec(Modality.IMAGE, epoch, cfg, null);
    }

    public static TransformSpec audio(AudioTransformConfig cfg, long epoch) {
        return new TransformSpec(Modality.AUDIO, epoch, cfg, null);
    }

    /** Text with the vocabulary stored in {@code vocabularyFile} (read now; checked by loading it). */
    public static TransformSpec text(TextTransformConfig cfg, Path vocabularyFile, long epoch) {
        try {
            TransformSpec spec = new TransformSpec(Modality.TEXT, epoch, cfg, Files.readAllBytes(vocabularyFile));
            spec.loadVocabulary(); // fail here, on the client, not on every worker
            return spec;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + vocabularyFile, e);
        }
    }

    /** The defaults of each transform (text needs a vocabulary: see {@link #text}). */
    public static TransformSpec defaults(Modality m, long epoch) {
        return switch (m) {
            case IMAGE -> image(ImageTransformConfig.defaults(), epoch);
            case AUDIO -> audio(AudioTransformConfig.defaults(), epoch);
            case TEXT -> throw new IllegalArgumentException("text needs a vocabulary: use TransformSpec.text(...)");
        };
    }

    /** Wire dtype of a sample: image uint8, audio fp16, text int32. */
    public DType dtype() {
        return switch (modality) {
            case IMAGE -> DType.UINT8;
            case AUDIO -> DType.FP16;
            case TEXT -> DType.INT32;
        };
    }

    /** One sample's dims: image [C, H, W], audio [frames, mels], text [blockLength]. */
    public int[] sampleShape() {
        return switch (modality) {
            case IMAGE -> {
                ImageTransformConfig c = (ImageTransformConfig) config;
                yield new int[] {c.channels(), c.size(), c.size()};
            }
            case AUDIO -> {
                AudioTransformConfig c = (AudioTransformConfig) config;
                yield new int[] {c.frames(), c.mels()};
            }
            case TEXT -> new int[] {((TextTransformConfig) config).blockLength()};
        };
    }

    /**
     * The preprocessing config hash every batch carries: the transform config's hash, and for text mixed with
     * the vocabulary's content hash (a new vocabulary changes what every id means).
     */
    public long configHash() {
        return switch (modality) {
            case IMAGE -> ((ImageTransformConfig) config).hash();
            case AUDIO -> ((AudioTransformConfig) config).hash();
            case TEXT -> textConfigHash((TextTransformConfig) config, loadVocabulary());
        };
    }

    /** The text config hash: the transform config's hash mixed with the vocabulary's content hash. */
    public static long textConfigHash(TextTransformConfig config, Vocabulary vocabulary) {
        return StableHash.mix(config.hash() * 31 + vocabulary.contentHash());
    }

    /** The batch layout for this transform with {@code batchSize} samples and a partial timeout. */
    public BatchSpec batchSpec(int batchSize, long timeoutMs) {
        return new BatchSpec(modality, dtype(), sampleShape(), batchSize, timeoutMs, configHash());
    }

    /** A fresh transformer (not thread-safe: one per worker thread). */
    public SampleTransformer open() {
        return new SampleTransformer(this);
    }

    Vocabulary loadVocabulary() {
        try {
            Path tmp = Files.createTempFile("d2v-vocab-", ".txt");
            try {
                Files.write(tmp, vocabulary);
                return Vocabulary.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the vocabulary in a temporary file", e);
        }
    }
}
