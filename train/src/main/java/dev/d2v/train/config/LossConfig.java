package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * The regression loss at masked positions (data2vec 2.0).
 *
 * @param lossBeta       0: squared error (reference); > 0: Smooth L1 with this beta (2.0 is a robust choice)
 * @param lossScale      multiplier of the per-token loss; 0 means 1/sqrt(D), the reference default
 * @param clsLossWeight  image only: weight of the CLS-vs-mean-target loss (0 turns it off)
 */
public record LossConfig(
        @JsonProperty("loss_beta") double lossBeta,
        @JsonProperty("loss_scale") double lossScale,
        @JsonProperty("cls_loss_weight") double clsLossWeight) {

    public LossConfig {
        require(lossBeta >= 0, "loss.loss_beta must be >= 0 (0 = L2), got " + lossBeta);
        require(lossScale >= 0, "loss.loss_scale must be >= 0 (0 = 1/sqrt(D)), got " + lossScale);
        require(clsLossWeight >= 0, "loss.cls_loss_weight must be >= 0, got " + clsLossWeight);
    }

    public static LossConfig reference(Modality m) {
        // L2 and 1/sqrt(D) everywhere; the CLS loss exists for images only (reference weight 0.01)
        return new LossConfig(0.0, 0.0, m == Modality.IMAGE ? 0.01 : 0.0);
    }

    /** The scale actually applied for token width dim. */
    public double scale(int dim) {
        return lossScale > 0 ? lossScale : 1.0 / Math.sqrt(dim);
    }
}
