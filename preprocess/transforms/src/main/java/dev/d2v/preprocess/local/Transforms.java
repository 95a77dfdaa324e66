package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.util.Objects;

/**
 * The transform settings per modality: the same config records the Flink jobs take, so an offline batch and a
 * streamed batch of the same record are the same bytes with the same config hash.
 */
public record Transforms(ImageTransformConfig image, AudioTransformConfig audio, TextTransformConfig text) {

    public Transforms {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(audio, "audio");
        Objects.requireNonNull(text, "text");
    }

    /**
     * The preprocessing config hash that every batch of modality m made with these settings carries (the Flink job's
     * {@link TransformSpec#configHash}); the continuous trainer refuses batches with another one.
     *
     * @param vocabulary the text vocabulary (text only; null for image and audio)
     */
    public long configHash(Modality m, Vocabulary vocabulary) {
        return switch (m) {
            case IMAGE -> image.hash();
            case AUDIO -> audio.hash();
            case TEXT -> TransformSpec.textConfigHash(text, Objects.requireNonNull(vocabulary,
                    "the text config hash covers the vocabulary: pass it"));
        };
    }

    public static Transforms defaults() {
        return new Transforms(ImageTransformConfig.defaults(), AudioTransformConfig.defaults(),
                TextTransformConfig.defaults());
    }
}
