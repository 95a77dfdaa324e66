package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Representation-collapse guard: the mean per-channel standard deviation over the tokens of a batch (the
 * reference's compute_var) of targets and predictions must stay above these bounds once warmed up.
 *
 * @param minTargetVar      reference 0.1
 * @param minPredictionVar  reference 0.01
 * @param afterSteps        checks start here (early training legitimately passes through low variance)
 * @param stop              true: stop training on a violation; false: warn only
 */
public record CollapseGuardConfig(
        @JsonProperty("min_target_var") double minTargetVar,
        @JsonProperty("min_prediction_var") double minPredictionVar,
        @JsonProperty("after_steps") long afterSteps,
        boolean stop) {

    public CollapseGuardConfig {
        require(minTargetVar >= 0 && minPredictionVar >= 0, "collapse bounds must be >= 0, got " + minTargetVar + ", " + minPredictionVar);
        require(afterSteps >= 0, "collapse.after_steps must be >= 0, got " + afterSteps);
    }

    public static CollapseGuardConfig reference() {
        return new CollapseGuardConfig(0.1, 0.01, 5000, false);
    }
}
