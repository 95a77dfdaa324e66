package dev.d2v.pipelines.cli;

import dev.d2v.train.config.Data2VecConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The model of `pretrain` and `train`: a preset, and dotted overrides of its fields (the reference's Hydra style). */
public final class ModelOptions {

    @Option(names = "--preset", defaultValue = "cpu", description = "tiny, small, base, large or cpu (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = {"Override one field of the preset's config, repeatable: model.dim=192,",
                    "image.masking.mask_ratio=0.7, image.multi_mask=8, optim.lr=5e-4 (keys as in a checkpoint's manifest)"})
    List<String> overrides = new ArrayList<>();

    public String preset() {
        return preset;
    }

    /** The preset with the overrides applied; a bad key or value is a {@link UserError} naming it. */
    public Data2VecConfig config() {
        try {
            return Data2VecConfig.preset(preset).withOverrides(overrides);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** "cpu" or "cpu with model.dim=192, ...", for the start line. */
    public String describe() {
        return overrides.isEmpty() ? preset : preset + " with " + String.join(", ", overrides);
    }
}
