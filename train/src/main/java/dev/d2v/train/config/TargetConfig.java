package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * How teacher targets are built: instance norm over time of each of the top-K FFN outputs, average, final norm.
 *
 * @param averageTopKLayers  K (config key avg_pool_layers)
 * @param instanceNorm       per-layer instance norm over time, per channel (reference: on)
 * @param finalNorm          norm of the average
 * @param centerPositions    subtract, at each position, the batch's mean target over the rows that have it (before the
 *                           final norm): what position alone predicts is not a target. Not in the reference; without
 *                           it, a few hundred CPU steps on text turn the targets into a function of position (the
 *                           variance explained by position alone rises from half to 94%) and the encoder forgets
 *                           content (train/TRAIN.md, "Position-centred targets")
 */
public record TargetConfig(
        @JsonProperty("average_top_k_layers") @JsonAlias({"avg_pool_layers"}) int averageTopKLayers,
        @JsonProperty("instance_norm") boolean instanceNorm,
        @JsonProperty("final_norm") FinalNorm finalNorm,
        @JsonProperty("center_positions") boolean centerPositions) {

    public TargetConfig {
        require(averageTopKLayers >= 1, "targets.average_top_k_layers must be >= 1, got " + averageTopKLayers);
        require(finalNorm != null, "targets.final_norm is required (layer_norm or none)");
    }

    /**
     * Reference K relative to the main blocks: image all 10 of 10, audio 8 of 12, text 12 of 12; images get a
     * LayerNorm on the average, audio and text none; no position centring.
     */
    public static TargetConfig reference(Modality m, int mainBlocks) {
        return switch (m) {
            case IMAGE -> new TargetConfig(mainBlocks, true, FinalNorm.LAYER_NORM, false);
            case AUDIO -> new TargetConfig(Math.max(1, (int) Math.round(mainBlocks * 8.0 / 12)), true, FinalNorm.NONE, false);
            case TEXT -> new TargetConfig(mainBlocks, true, FinalNorm.NONE, false);
        };
    }
}
