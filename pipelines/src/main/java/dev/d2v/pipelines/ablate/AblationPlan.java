package dev.d2v.pipelines.ablate;

import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
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
     * @param overrides the fixed overrides, then the variant's
     * @param config    the preset with the overrides applied (before it is fitted to the data's transforms)
     * @param folder    the run folder: checkpoints/, metrics.jsonl, eval/, ablate-run.json
     */
    public record Run(int number, Variant variant, long seed, String preset, List<String> overrides,
                      Data2VecConfig config, Path folder) {

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
            if (steps != null) {
                return steps;
            }
            return timeBudget != null && scheduleSteps == null ? Long.MAX_VALUE : config.optim().totalSteps();
        }
    }

    public AblationPlan {
        runs = List.copyOf(runs);
    }

    /** @throws IllegalArgumentException naming the --set or --vary option (and key) a config error comes from */
    public static AblationPlan of(AblationSettings s) {
        build(s.preset(), s.fixedOverrides(), "--set");
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
            for (long seed : s.seeds()) {
                String folder = v.folder(seed);
                if (!folders.add(folder)) {
                    throw new IllegalArgumentException("two runs would share the folder " + folder
                            + ": values that differ only in characters other than letters, digits and . _ = , + -");
                }
                runs.add(new Run(runs.size() + 1, v, seed, preset, overrides, config, s.out().resolve(folder)));
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
        String section = f.key().split("\\.")[0];
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
            return Data2VecConfig.preset(preset).withOverrides(overrides);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
    }
}
