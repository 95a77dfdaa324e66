package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.TransformConfig;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.util.Objects;

/**
 * The transform settings of all three modalities: the same config records the Flink jobs take, so an offline batch
 * and a streamed batch of the same record are the same bytes with the same config hash. {@link #spec} gives one
 * modality's {@link TransformSpec}, the job's own description of its transform.
 */
public record Transforms(ImageTransformConfig image, AudioTransformConfig audio, TextTransformConfig text) {

    public Transforms {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(audio, "audio");
        Objects.requireNonNull(text, "text");
    }

    /** The config of modality m. */
    public TransformConfig config(Modality m) {
        return switch (m) {
            case IMAGE -> image;
            case AUDIO -> audio;
            case TEXT -> text;
        };
    }

    /**
     * Modality m's transform with these settings, as the Flink job gets it.
     *
     * @param vocabulary the text vocabulary (text only; ignored for image and audio)
     */
    public TransformSpec spec(Modality m, Vocabulary vocabulary, long epoch) {
        return switch (m) {
            case IMAGE -> TransformSpec.image(image, epoch);
            case AUDIO -> TransformSpec.audio(audio, epoch);
            case TEXT -> TransformSpec.text(text, Objects.requireNonNull(vocabulary, "text needs a vocabulary"), epoch);
        };
    }

    /**
     * The preprocessing config hash that every batch of modality m made with these settings carries (the Flink job's
     * {@link TransformSpec#configHash}); the continuous trainer refuses batches with another one.
     *
     * @param vocabulary the text vocabulary (text only; null for image and audio)
     */
    public long configHash(Modality m, Vocabulary vocabulary) {
        return TransformSpec.configHash(config(m), m == Modality.TEXT
                ? Objects.requireNonNull(vocabulary, "the text config hash covers the vocabulary: pass it") : null);
    }

    public static Transforms defaults() {
        return new Transforms(ImageTransformConfig.defaults(), AudioTransformConfig.defaults(),
                TextTransformConfig.defaults());
    }
}
