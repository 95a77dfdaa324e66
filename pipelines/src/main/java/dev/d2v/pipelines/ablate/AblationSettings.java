package dev.d2v.pipelines.ablate;

import dev.d2v.evaluate.EvaluationSettings;
import dev.d2v.infra.Modality;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.Transforms;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * One ablation sweep ({@code ./d2v ablate}): every variant of the grid, for every seed, pretrained by
 * {@code PretrainRunner} under the same budget and evaluated at each checkpoint by {@code EvaluationRunner}.
 *
 * @param modality       the one modality trained
 * @param data           dataset name or folder / JSONL file, as for {@code pretrain}
 * @param dataContext    where datasets are cached and fetched
 * @param limit          only the first N training records; null: all
 * @param batchSize      samples per minibatch
 * @param preset         the preset of every variant that does not vary "preset"
 * @param transforms     the preprocessing transforms of every run before its {@code transforms.} overrides
 * @param fixedOverrides "key=value" overrides applied to every run, before the variant's own (a {@code transforms.}
 *                       key overrides a transform, any other a field of the model's config)
 * @param factors        the --vary options; the grid is their product ({@link Variant#grid}); empty: one variant
 * @param seeds          each variant is run once per seed (initialisation, masks, data order)
 * @param steps          train each run until this step; null: its preset's schedule length, or under a time budget
 *                       (and no scheduleSteps) as many steps as fit, the schedules fitted to the budget as pretrain's
 * @param timeBudget     wall time of pretraining per run, spent in {@link #checkpoints} equal parts, each ending
 *                       with a checkpoint; null: no time budget (checkpoints every steps / checkpoints steps)
 * @param scheduleSteps  length of the LR / tau schedules; null: the step budget (as {@code pretrain})
 * @param checkpoints    checkpoints per run, each evaluated: the points of the accuracy-against-steps curves
 * @param out            the sweep's folder: one folder per run, ablation.jsonl, ablation.html
 * @param device         cpu or gpu
 * @param threads        PyTorch intra-op threads; null: one per core
 * @param evaluation     the evaluation of every checkpoint; its {@code out} must be null (each run's results go to
 *                       {@code <run>/eval}), its tasks non-empty
 */
public record AblationSettings(Modality modality, String data, DataContext dataContext, Integer limit, int batchSize,
                               String preset, Transforms transforms, List<String> fixedOverrides, List<Factor> factors,
                               List<Long> seeds,
                               Long steps, Duration timeBudget, Long scheduleSteps, int checkpoints, Path out,
                               String device, Integer threads, EvaluationSettings evaluation) {

    /** Checkpoints per run when not told: enough points for a curve, few enough evaluations. */
    public static final int DEFAULT_CHECKPOINTS = 5;

    public AblationSettings {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(transforms, "transforms");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(evaluation, "evaluation");
        fixedOverrides = List.copyOf(fixedOverrides);
        factors = List.copyOf(factors);
        seeds = List.copyOf(seeds);
        if (seeds.isEmpty() || new HashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException("--seeds must list at least one seed, each once, got " + seeds);
        }
        if (steps != null && steps < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        }
        if (timeBudget != null && (timeBudget.isNegative() || timeBudget.isZero())) {
            throw new IllegalArgumentException("--minutes must be > 0, got " + timeBudget.toMillis() / 60_000.0);
        }
        if (checkpoints < 1) {
            throw new IllegalArgumentException("--checkpoints must be >= 1, got " + checkpoints);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (evaluation.out() != null) {
            throw new IllegalArgumentException("the evaluation's results go to each run's folder: its out must be null");
        }
        if (evaluation.tasks().isEmpty()) {
            throw new IllegalArgumentException("an ablation needs at least one probe task");
        }
    }

    /** .d2v/ablate/&lt;name&gt; */
    public static Path defaultOut(String name) {
        return Path.of(".d2v", "ablate", name);
    }

    /**
     * A sweep's default name: modality, dataset (a path's last part) and the varied keys' last parts, e.g.
     * {@code image-mnist-average_top_k_layers}; {@code image-mnist-seeds} without --vary.
     */
    public static String defaultName(Modality modality, String data, List<Factor> factors) {
        Path p = Path.of(data).getFileName();
        String dataName = p == null ? data : p.toString();
        StringBuilder b = new StringBuilder(modality.id()).append('-').append(dataName).append('-');
        if (factors.isEmpty()) {
            b.append("seeds");
        } else {
            for (int i = 0; i < factors.size(); i++) {
                String key = factors.get(i).key();
                b.append(i == 0 ? "" : "+").append(key.substring(key.lastIndexOf('.') + 1));
            }
        }
        return b.toString().replaceAll("[^A-Za-z0-9._+-]", "_");
    }
}
