package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * AdamW with linear warmup and cosine decay to a floor.
 *
 * @param lr            peak learning rate, reached at the end of warmup
 * @param beta1         Adam first-moment decay
 * @param beta2         Adam second-moment decay (0.95 for image: steadier with large masked batches)
 * @param weightDecay   decoupled weight decay, not applied to biases, norms, 1-D parameters
 * @param warmupSteps   linear warmup 0 -> lr
 * @param totalSteps    end of the cosine decay; the LR stays at the floor afterwards (continuous training)
 * @param minLrRatio    the floor as a fraction of lr
 * @param clipGradNorm  global gradient-norm clip; 0 turns clipping off
 */
public record OptimConfig(
        double lr,
        @JsonProperty("beta1") double beta1,
        @JsonProperty("beta2") double beta2,
        @JsonProperty("weight_decay") double weightDecay,
        @JsonProperty("warmup_steps") @JsonAlias({"warmup_updates"}) long warmupSteps,
        @JsonProperty("total_steps") @JsonAlias({"max_update"}) long totalSteps,
        @JsonProperty("min_lr_ratio") double minLrRatio,
        @JsonProperty("clip_grad_norm") @JsonAlias({"clip_norm"}) double clipGradNorm) {

    public OptimConfig {
        require(lr > 0, "optim.lr must be > 0, got " + lr);
        require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "optim betas must be in [0, 1), got " + beta1 + ", " + beta2);
        require(weightDecay >= 0, "optim.weight_decay must be >= 0, got " + weightDecay);
        require(warmupSteps >= 0, "optim.warmup_steps must be >= 0, got " + warmupSteps);
        require(totalSteps > warmupSteps, "optim.total_steps " + totalSteps + " must exceed optim.warmup_steps " + warmupSteps);
        require(minLrRatio >= 0 && minLrRatio <= 1, "optim.min_lr_ratio must be in [0, 1], got " + minLrRatio);
        require(clipGradNorm >= 0, "optim.clip_grad_norm must be >= 0 (0 = off), got " + clipGradNorm);
    }

    /** fairseq examples/data2vec base config values; schedule lengths follow the tau anneal (400k updates image, ~400k audio, 1M text scaled down). */
    public static OptimConfig reference(Modality m) {
        return switch (m) {
            // floor 0.01: a continuous trainer runs past total_steps and should keep learning a little
            case IMAGE -> new OptimConfig(1e-3, 0.9, 0.95, 0.05, 40_000, 400_000, 0.01, 4.0);
            case AUDIO -> new OptimConfig(7.5e-4, 0.9, 0.98, 0.01, 8_000, 400_000, 0.01, 0.0);
            case TEXT -> new OptimConfig(2e-4, 0.9, 0.98, 0.01, 4_000, 1_000_000, 0.01, 1.0);
        };
    }
}
