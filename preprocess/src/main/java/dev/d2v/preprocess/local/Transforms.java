package dev.d2v.preprocess.local;

import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
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

    public static Transforms defaults() {
        return new Transforms(ImageTransformConfig.defaults(), AudioTransformConfig.defaults(),
                TextTransformConfig.defaults());
    }
}
