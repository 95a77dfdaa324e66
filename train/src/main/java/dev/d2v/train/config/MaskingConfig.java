package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * How one modality is masked (the data2vec 2.0 masking settings per modality).
 *
 * @param kind            block (image), span (audio) or random (text)
 * @param maskRatio       fraction of tokens the student does not see
 * @param blockLength     block side (image) or span length (audio); 1 for random
 * @param maskProbAdjust  oversampling of block centres, so that the union of overlapping blocks reaches the
 *                        target before the count is fixed (fewer random top-ups, more block-shaped masks)
 * @param inverseMask     true: the blocks mark what is KEPT (image, reference); false: they mark what is masked
 */
public record MaskingConfig(
        MaskKind kind,
        @JsonProperty("mask_ratio") @JsonAlias({"mask_prob"}) double maskRatio,
        @JsonProperty("block_length") @JsonAlias({"mask_length", "span_length"}) int blockLength,
        @JsonProperty("mask_prob_adjust") double maskProbAdjust,
        @JsonProperty("inverse_mask") boolean inverseMask) {

    public MaskingConfig {
        require(kind != null, "masking.kind is required (block_2d, span_1d or random)");
        require(maskRatio > 0 && maskRatio < 1, "masking.mask_ratio must be in (0, 1), got " + maskRatio);
        require(blockLength >= 1, "masking.block_length must be >= 1, got " + blockLength);
        require(kind != MaskKind.RANDOM || blockLength == 1, "masking.block_length must be 1 for random masks, got " + blockLength);
        require(maskProbAdjust >= 0 && maskProbAdjust < 1, "masking.mask_prob_adjust must be in [0, 1), got " + maskProbAdjust);
    }

    /** Reference values (fairseq examples/data2vec base configs). */
    public static MaskingConfig reference(Modality m) {
        return switch (m) {
            // 0.8 masked with 3x3 keep-blocks: the reference's best image setting (seed range 0.6-0.7)
            case IMAGE -> new MaskingConfig(MaskKind.BLOCK_2D, 0.8, 3, 0.07, true);
            // 0.5 masked in 5-frame spans (seed 0.5-0.6); audio masks the spans themselves
            case AUDIO -> new MaskingConfig(MaskKind.SPAN_1D, 0.5, 5, 0.05, false);
            // 0.48 of tokens, independently (seed 0.15-0.3 is BERT's ratio; the reference masks more)
            case TEXT -> new MaskingConfig(MaskKind.RANDOM, 0.48, 1, 0.0, false);
        };
    }

    /** Fraction of tokens the drawn blocks should cover: the kept part when inverse, else the masked part. */
    public double blockFraction() {
        return inverseMask ? 1 - maskRatio : maskRatio;
    }

    /** Side of a block along the two grid axes: (len, len) for images, (1, len) on a line. */
    public int blockRows() {
        return kind == MaskKind.BLOCK_2D ? blockLength : 1;
    }
}
