package dev.d2v.preprocess.sample;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.TransformConfig;
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
 * Flink job graph. The offline loader ({@code LocalBatches}) builds one too, so a streamed and an offline
 * sample of the same record come from the same {@link SampleTransformer}.
 *
 * @param epoch      augmentation seed part: the same (sample id, epoch) always gives the same crop and flip;
 *                   a rerun over the same raw records with a new epoch gives new ones
 * @param config     ImageTransformConfig, AudioTransformConfig or TextTransformConfig, matching the modality
 * @param vocabulary a vocabulary file's bytes ({@link Vocabulary#save}) for text, null otherwise
 */
public record TransformSpec(Modality modality, long epoch, TransformConfig config, byte[] vocabulary)
        implements Serializable {

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
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(vocabularyFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read vocabulary " + vocabularyFile, e);
        }
        Vocabulary.load(bytes, vocabularyFile.toString()); // fail here, on the client, not on every worker
        return new TransformSpec(Modality.TEXT, epoch, cfg, bytes);
    }

    /** Text with {@code vocabulary} (its {@link Vocabulary#toBytes file bytes} are what travels). */
    public static TransformSpec text(TextTransformConfig cfg, Vocabulary vocabulary, long epoch) {
        return new TransformSpec(Modality.TEXT, epoch, cfg, vocabulary.toBytes());
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
        return config.sampleShape();
    }

    /**
     * The preprocessing config hash every batch carries: the transform config's hash, and for text mixed with
     * the vocabulary's content hash (a new vocabulary changes what every id means).
     */
    public long configHash() {
        return configHash(config, modality == Modality.TEXT ? loadVocabulary() : null);
    }

    /**
     * The preprocessing config hash of batches made with {@code config}: {@code config.hash()}, for text
     * {@code StableHash.mix(config.hash() * 31 + vocabulary.contentHash())}. The Flink job stamps it on every batch
     * and the trainer computes it from its own settings ({@code Transforms.configHash}) to refuse other batches.
     *
     * @param vocabulary the text vocabulary; ignored for image and audio
     */
    public static long configHash(TransformConfig config, Vocabulary vocabulary) {
        return config instanceof TextTransformConfig
                ? StableHash.mix(config.hash() * 31 + vocabulary.contentHash())
                : config.hash();
    }

    /** The batch layout for this transform with {@code batchSize} samples and a partial timeout. */
    public BatchSpec batchSpec(int batchSize, long timeoutMs) {
        return new BatchSpec(modality, dtype(), sampleShape(), batchSize, timeoutMs, configHash());
    }

    /** A fresh transformer (not thread-safe: one per worker thread). */
    public SampleTransformer open() {
        return new SampleTransformer(this);
    }

    /** The text vocabulary from the shipped bytes (parsed on each call: callers keep the result). */
    Vocabulary loadVocabulary() {
        return Vocabulary.load(vocabulary, "shipped with the " + modality.id() + " transform spec");
    }
}
