package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * Everything one modality adds to the shared encoder.
 *
 * @param prenetDepth  leading blocks that belong to this modality's prenet (image base: 2); targets come from the
 *                     main blocks after them
 * @param multiMask    clones M of each sample, each with its own mask (reference clone_batch); the teacher runs once
 */
public record ModalityConfig(
        @JsonProperty("prenet_depth") int prenetDepth,
        MaskingConfig masking,
        @JsonProperty("multi_mask") @JsonAlias({"clone_batch"}) int multiMask,
        DecoderConfig decoder,
        TargetConfig targets,
        LossConfig loss) {

    public ModalityConfig {
        require(prenetDepth >= 0, "prenet_depth must be >= 0, got " + prenetDepth);
        require(masking != null && decoder != null && targets != null && loss != null,
                "a modality needs masking, decoder, targets and loss sections");
        require(multiMask >= 1, "multi_mask must be >= 1, got " + multiMask);
    }

    /** SPEC reference column for modality m on an encoder of the given width and depth. */
    public static ModalityConfig reference(Modality m, ModelConfig model, int prenetDepth, int multiMask) {
        int main = model.depth() - prenetDepth;
        return new ModalityConfig(prenetDepth, MaskingConfig.reference(m), multiMask,
                DecoderConfig.reference(m, model.dim()), TargetConfig.reference(m, main), LossConfig.reference(m));
    }

    /** Reference clone counts: 16 image, 8 audio and text. */
    public static int referenceMultiMask(Modality m) {
        return m == Modality.IMAGE ? 16 : 8;
    }
}
