package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.config.Data2VecConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The model of `pretrain` and `train`: a preset, and dotted overrides of its fields (the reference's Hydra style).
 * The configuration's {@code model:} section gives both; --preset replaces its preset, --set overrides are applied
 * after its {@code set}.
 */
public final class ModelOptions {

    @Option(names = "--preset", paramLabel = "NAME",
            description = "tiny, small, base, large or cpu (default: model.preset of the configuration, else "
                    + PipelineConfig.Model.DEFAULT_PRESET + ")")
    String preset;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = {"Override one field of the preset's config, repeatable, after model.set of the configuration:",
                    "model.dim=192, image.masking.mask_ratio=0.7, image.multi_mask=8, optim.lr=5e-4 (keys as in a checkpoint's manifest);",
                    "transforms.image.flipProbability=0 overrides a preprocessing transform, after transforms.set of the configuration"})
    List<String> overrides = new ArrayList<>();

    /** The command this is mixed into: its --config option, when it has one, names the configuration file. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The preset: --preset, else the configuration's (the command's --config file, else config/d2v.yaml). */
    public String preset() {
        return preset(configuration());
    }

    public String preset(PipelineConfig c) {
        return preset != null ? preset : c.model().preset();
    }

    /** The preset with the overrides applied; a bad key or value is a {@link UserError} naming it. */
    public Data2VecConfig config() {
        return config(configuration());
    }

    public Data2VecConfig config(PipelineConfig c) {
        try {
            return Data2VecConfig.preset(preset(c)).withOverrides(overrides(c));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** "cpu" or "cpu with model.dim=192, ...", for the start line. */
    public String describe() {
        return describe(configuration());
    }

    public String describe(PipelineConfig c) {
        List<String> all = overrides(c);
        withTransforms(c).transforms().set().forEach(kv -> all.add(Transforms.KEY_PREFIX + kv));
        return Data2VecConfig.describe(preset(c), all);
    }

    /** The configuration's model.set, then --set's model keys: a later value of a key wins. */
    public List<String> overrides(PipelineConfig c) {
        List<String> all = new ArrayList<>(c.model().set());
        all.addAll(commandLineOverrides());
        return all;
    }

    /** --set's model keys as given (without the configuration's model.set). */
    public List<String> commandLineOverrides() {
        return Transforms.otherAssignments(overrides);
    }

    /**
     * The configuration with --set's {@code transforms.} keys appended to its transforms.set (prefix removed), so that
     * every stage that reads it builds the same transforms.
     */
    public PipelineConfig withTransforms(PipelineConfig c) {
        return c.withTransformOverrides(Transforms.transformAssignments(overrides));
    }

    /** The transforms a command builds: the configuration's, then --set's transforms keys; a bad one is a UserError. */
    public Transforms transforms(PipelineConfig c) {
        try {
            return Transforms.of(withTransforms(c));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private PipelineConfig configuration() {
        OptionSpec config = command == null ? null : command.findOption("--config");
        Path file = config == null ? null : config.getValue();
        return ConfigOptions.load(file);
    }

    /** --init-from names a checkpoint folder (one with its manifest), or is absent. */
    static void checkInitFrom(Path initFrom) {
        if (initFrom != null && !Files.isRegularFile(initFrom.resolve(
                CheckpointManifest.FILE))) {
            throw new UserError("--init-from " + initFrom + " is not a checkpoint folder (one with "
                    + CheckpointManifest.FILE + ")");
        }
    }
}
