package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * Teacher EMA momentum tau (data2vec 2.0: the teacher is an EMA of the student).
 *
 * @param tauStart          tau at step 0 (config key ema_momentum_start)
 * @param tauEnd            tau after the anneal; 1 freezes the teacher (the update is then skipped)
 * @param annealSteps       steps from tauStart to tauEnd
 * @param schedule          cosine or linear (the reference)
 * @param afterWarmup       true: hold tauStart during the LR warmup and anneal after it (so that
 *                          LR and tau move together); false: anneal from step 0 as the reference does
 */
public record EmaConfig(
        @JsonProperty("ema_momentum_start") @JsonAlias({"tau_start", "ema_decay"}) double tauStart,
        @JsonProperty("ema_momentum_end") @JsonAlias({"tau_end", "ema_end_decay"}) double tauEnd,
        @JsonProperty("ema_anneal_steps") @JsonAlias({"tau_anneal_steps", "ema_anneal_end_step"}) long annealSteps,
        EmaSchedule schedule,
        @JsonProperty("anneal_after_warmup") boolean afterWarmup) {

    public EmaConfig {
        require(tauStart > 0 && tauStart <= 1, "ema.ema_momentum_start must be in (0, 1], got " + tauStart);
        require(tauEnd >= tauStart && tauEnd <= 1,
                "ema.ema_momentum_end must be in [ema_momentum_start, 1], got " + tauEnd + " (start " + tauStart + ")");
        require(annealSteps >= 1, "ema.ema_anneal_steps must be >= 1, got " + annealSteps);
        require(schedule != null, "ema.schedule is required (cosine or linear)");
    }

    /** fairseq examples/data2vec base configs: image 0.9998 -> 0.99999 over 100k, audio 0.999 -> 0.99999 over 75k, text 0.9999 -> 0.99999 over 100k. */
    public static EmaConfig reference(Modality m) {
        return switch (m) {
            case IMAGE -> new EmaConfig(0.9998, 0.99999, 100_000, EmaSchedule.LINEAR, true);
            case AUDIO -> new EmaConfig(0.999, 0.99999, 75_000, EmaSchedule.LINEAR, true);
            case TEXT -> new EmaConfig(0.9999, 0.99999, 100_000, EmaSchedule.LINEAR, true);
        };
    }
}
