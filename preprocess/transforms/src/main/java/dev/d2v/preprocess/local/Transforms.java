package dev.d2v.preprocess.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.DottedOverrides;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.TransformConfig;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.util.List;
import java.util.Objects;

/**
 * The transform settings of all three modalities: the same config records the Flink jobs take, so an offline batch
 * and a streamed batch of the same record are the same bytes with the same config hash. {@link #spec} gives one
 * modality's {@link TransformSpec}, the job's own description of its transform.
 */
public record Transforms(ImageTransformConfig image, AudioTransformConfig audio, TextTransformConfig text) {

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** The prefix that marks a command line's {@code --set} or {@code --vary} key as a transform's, not the model's. */
    public static final String KEY_PREFIX = "transforms.";

    /** Whether a KEY=VALUE assignment names a transform ({@code transforms.image.flipProbability=0}). */
    public static boolean isTransformKey(String assignment) {
        return assignment.startsWith(KEY_PREFIX);
    }

    /** The transform assignments among mixed model and transform ones, in order, the prefix removed. */
    public static List<String> transformAssignments(List<String> mixed) {
        return mixed.stream().filter(Transforms::isTransformKey).map(a -> a.substring(KEY_PREFIX.length())).toList();
    }

    /** The assignments among mixed ones that do not name a transform (the model's), in order. */
    public static List<String> otherAssignments(List<String> mixed) {
        return mixed.stream().filter(a -> !isTransformKey(a)).toList();
    }

    /** The configuration's transforms: the defaults with its {@code transforms.set} overrides. */
    public static Transforms of(PipelineConfig config) {
        return defaults().withOverrides(config.transforms().set());
    }

    /**
     * These transforms with dotted-path overrides of their fields ({@link DottedOverrides}): {@code
     * image.flipProbability=0}, {@code image.cropScaleMin=0.6}, {@code audio.mels=64}; the keys are those of
     * a checkpoint's {@code config.run.transforms}. A bad key or value is an IllegalArgumentException naming it.
     */
    public Transforms withOverrides(List<String> assignments) {
        if (assignments.isEmpty()) {
            return this;
        }
        ObjectNode tree = JSON.valueToTree(this);
        try {
            return JSON.treeToValue(DottedOverrides.apply(tree, assignments, "image.flipProbability=0"), Transforms.class);
        } catch (JsonProcessingException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : e;
            throw new IllegalArgumentException("invalid transforms override: " + cause.getMessage(), e);
        }
    }
}
