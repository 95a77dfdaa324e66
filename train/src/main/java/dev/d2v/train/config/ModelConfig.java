package dev.d2v.train.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The shared transformer encoder (post-LN blocks, as data2vec 2.0).
 *
 * @param dim       token width D; must be a multiple of heads
 * @param depth     all blocks, prenet included: a modality's main blocks are {@code depth - prenet_depth}
 * @param heads     attention heads; head width = dim / heads
 * @param mlpRatio  FFN hidden width / D (reference 4)
 * @param dropout   dropout inside the blocks (reference 0 for image, 0.1 audio/text)
 * @param sharedTrunk true (the reference's multimodal setting, and the default): every modality runs through the
 *                    same main blocks "blocks.{i}"; false: each modality has its own, "{m}.blocks.{i}", so that the
 *                    modalities of a round-robin run do not share (or fight over) the trunk. One modality alone
 *                    trains the same either way; only the parameter names differ.
 */
public record ModelConfig(
        int dim,
        int depth,
        int heads,
        @JsonProperty("mlp_ratio") double mlpRatio,
        double dropout,
        @JsonProperty("shared_trunk") Boolean sharedTrunk) {

    @JsonCreator
    public ModelConfig {
        sharedTrunk = sharedTrunk == null || sharedTrunk;   // checkpoints written before the field existed
        require(dim > 0 && depth > 0 && heads > 0, "model dim, depth and heads must be > 0, got " + dim + ", " + depth + ", " + heads);
        require(dim % heads == 0, "model.dim " + dim + " must be a multiple of model.heads " + heads);
        require(mlpRatio > 0, "model.mlp_ratio must be > 0, got " + mlpRatio);
        require(dropout >= 0 && dropout < 1, "model.dropout must be in [0, 1), got " + dropout);
    }

    /** A shared trunk (the usual case). */
    public ModelConfig(int dim, int depth, int heads, double mlpRatio, double dropout) {
        this(dim, depth, heads, mlpRatio, dropout, true);
    }

    /** This shape with a shared or per-modality trunk. */
    public ModelConfig withSharedTrunk(boolean shared) {
        return new ModelConfig(dim, depth, heads, mlpRatio, dropout, shared);
    }

    /** Width of the FFN hidden layer. */
    public int mlpDim() {
        return (int) Math.round(dim * mlpRatio);
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
