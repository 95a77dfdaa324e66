package dev.d2v.pipelines.ablate;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.PretrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The runs of a sweep, every model config built and checked before anything trains: a key that does not exist, a
 * value of the wrong type or a combination the config refuses fails here, naming the option it came from.
 *
 * @param runs variant by variant (the grid's order), seed by seed within a variant
 */
public record AblationPlan(List<Run> runs) {

    /**
     * One pretraining run and its evaluations.
     *
     * @param number    1-based position in the sweep (for progress lines)
     * @param preset    the preset the overrides apply to
     * @param overrides  the fixed overrides, then the variant's
     * @param config     the preset with the model overrides applied (before it is fitted to the data's transforms)
     * @param transforms the sweep's transforms with the {@code transforms.} overrides applied
     * @param folder     the run folder: checkpoints/, metrics.jsonl, eval/, ablate-run.json
     */
    public record Run(int number, Variant variant, long seed, String preset, List<String> overrides,
                      Data2VecConfig config, Transforms transforms, Path folder) {

        public Run {
            overrides = List.copyOf(overrides);
        }

        /** "optim.lr=1e-3, seed 2" */
        public String label() {
            return variant.name() + ", seed " + seed;
        }

        /**
         * The step the run trains to, as pretrain: the step budget; else, under a time budget with no schedule length,
         * no step (Long.MAX_VALUE: the schedules are fitted to the time); else the config's schedule length.
         */
        public long targetStep(Long steps, Duration timeBudget, Long scheduleSteps) {
            return PretrainSettings.targetStep(steps, scheduleSteps, timeBudget, config);
        }
    }

    public AblationPlan {
        runs = List.copyOf(runs);
    }

    /** @throws IllegalArgumentException naming the --set or --vary option (and key) a config error comes from */
    public static AblationPlan of(AblationSettings s) {
        build(s.preset(), s.fixedOverrides(), "--set");
        transforms(s.transforms(), s.fixedOverrides(), "--set");
        for (Factor f : s.factors()) {
            check(f, s);
        }
        List<Run> runs = new ArrayList<>();
        Set<String> folders = new HashSet<>();
        for (Variant v : Variant.grid(s.factors())) {
            List<String> overrides = new ArrayList<>(s.fixedOverrides());
            overrides.addAll(v.overrides());
            String preset = v.preset(s.preset());
            Data2VecConfig config = build(preset, overrides, "variant " + v.name());
            Transforms transforms = transforms(s.transforms(), overrides, "variant " + v.name());
            for (long seed : s.seeds()) {
                String folder = v.folder(seed);
                if (!folders.add(folder)) {
                    throw new IllegalArgumentException("two runs would share the folder " + folder
                            + ": values that differ only in characters other than letters, digits and . _ = , + -");
                }
                runs.add(new Run(runs.size() + 1, v, seed, preset, overrides, config, transforms, s.out().resolve(folder)));
            }
        }
        return new AblationPlan(runs);
    }

    /** Each value of one factor on its own, over the fixed overrides, so that an error names the value. */
    private static void check(Factor f, AblationSettings s) {
        if (f.isPreset()) {
            f.values().forEach(v -> build(v, s.fixedOverrides(), "--vary preset=" + v));
            return;
        }
        if (f.isInitFrom()) {
            for (String v : f.values()) {
                if (!v.equals(Factor.SCRATCH) && !Files.isRegularFile(Path.of(v).resolve(CheckpointManifest.FILE))) {
                    throw new IllegalArgumentException("--vary " + Factor.INIT_FROM + "=" + v + ": not a checkpoint folder"
                            + " (one with " + CheckpointManifest.FILE + "), nor " + Factor.SCRATCH);
                }
            }
            return;
        }
        String[] path = f.key().split("\\.");
        String section = Transforms.isTransformKey(f.key()) && path.length > 1 ? path[1] : path[0];
        for (Modality m : Modality.values()) {
            if (m.id().equals(section) && m != s.modality()) {
                throw new IllegalArgumentException("--vary " + f.key() + ": the runs train " + s.modality().id()
                        + " only, so a " + m.id() + " key changes nothing");
            }
        }
        // a value may suit only some of the presets a preset factor brings in: one of them accepting it is enough
        // here, the combinations are checked one by one afterwards
        List<String> presets = s.factors().stream().filter(Factor::isPreset).findFirst().map(Factor::values)
                .orElse(List.of(s.preset()));
        for (String v : f.values()) {
            List<String> overrides = new ArrayList<>(s.fixedOverrides());
            overrides.add(f.key() + "=" + v);
            if (Transforms.isTransformKey(f.key())) {
                transforms(s.transforms(), overrides, "--vary " + f.key() + "=" + v);
                continue;
            }
            IllegalArgumentException first = null;
            for (String preset : presets) {
                try {
                    build(preset, overrides, "--vary " + f.key() + "=" + v);
                    first = null;
                    break;
                } catch (IllegalArgumentException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private static Data2VecConfig build(String preset, List<String> overrides, String origin) {
        try {
            return Data2VecConfig.preset(preset).withOverrides(Transforms.otherAssignments(overrides));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
    }

    /** base with the overrides that name a transform ({@code transforms.image.flipProbability=0}), prefix removed. */
    private static Transforms transforms(Transforms base, List<String> overrides, String origin) {
        try {
            return base.withOverrides(Transforms.transformAssignments(overrides));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
    }
}
