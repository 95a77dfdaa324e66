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
 * @param seqLossWeight  weight of the pooled loss (0 turns it off; not in the reference): per clone, the student's
 *                       visible tokens mean-pooled through a linear head "{m}.decoder.pooled" regress the teacher's
 *                       last block mean-pooled over the real tokens and standardised per channel over the batch. The
 *                       token loss asks nothing of a text's or a clip's mean (instance norm removes it from every
 *                       target); this term asks the pooled features, which the probes read, to carry what tells one
 *                       sample from another in the batch, the same whichever tokens were masked.
 */
public record LossConfig(
        @JsonProperty("loss_beta") double lossBeta,
        @JsonProperty("loss_scale") double lossScale,
        @JsonProperty("cls_loss_weight") double clsLossWeight,
        @JsonProperty("seq_loss_weight") double seqLossWeight) {

    public LossConfig {
        require(lossBeta >= 0, "loss.loss_beta must be >= 0 (0 = L2), got " + lossBeta);
        require(lossScale >= 0, "loss.loss_scale must be >= 0 (0 = 1/sqrt(D)), got " + lossScale);
        require(clsLossWeight >= 0, "loss.cls_loss_weight must be >= 0, got " + clsLossWeight);
        require(seqLossWeight >= 0, "loss.seq_loss_weight must be >= 0, got " + seqLossWeight);
    }

    public static LossConfig reference(Modality m) {
        // L2 and 1/sqrt(D) everywhere; the CLS loss exists for images only (reference weight 0.01)
        return new LossConfig(0.0, 0.0, m == Modality.IMAGE ? 0.01 : 0.0, 0.0);
    }

    /** The scale actually applied for token width dim. */
    public double scale(int dim) {
        return lossScale > 0 ? lossScale : 1.0 / Math.sqrt(dim);
    }
}
