package dev.d2v.train.run;

import dev.d2v.infra.Modality;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.config.Data2VecConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * One offline pretraining run ({@code ./d2v pretrain}).
 *
 * @param modality        the one modality trained
 * @param data            a dataset name (fashion-mnist, spoken-digits, wordnet, ...) or a folder / JSONL file
 * @param dataContext     where datasets are cached and fetched
 * @param limit           only the first N training records; null: all
 * @param batchSize       samples per minibatch
 * @param preset          the model before it is fitted to the transforms (overrides applied)
 * @param presetName      how the start line names it
 * @param transforms      the preprocessing of the training records (crops, flips, mel settings, ...)
 * @param steps           train until this step in total; null: the preset's schedule length
 * @param scheduleSteps   length of the LR / tau schedules; null: {@code steps} on a new run, the checkpoint's on a
 *                        resumed one
 * @param timeBudget      stop (with a checkpoint) after this much wall time; null: none
 * @param scheduleBudget  a new run with neither steps nor scheduleSteps fits its LR / tau schedules to this much wall
 *                        time ({@link dev.d2v.train.loop.ScheduleFit}) and trains until its timeBudget ends; null: the
 *                        run is bound by steps (the preset's schedule length when steps is null)
 * @param out             run folder: checkpoints/, metrics.jsonl, encoder/ (vocabulary.txt for text)
 * @param device          cpu or gpu
 * @param threads         PyTorch intra-op threads; null: one per core
 * @param seed            initialisation, masks, data order
 * @param checkpointEvery checkpoint at every multiple of this step (0: only at the end)
 * @param keep            keep the last K checkpoints
 * @param initFrom        a new run starts its trunk from this checkpoint's (cross-modality transfer, {@link Transfer});
 *                        null: from its own initialisation
 */
public record PretrainSettings(Modality modality, String data, DataContext dataContext, Integer limit, int batchSize,
                               Data2VecConfig preset, String presetName, Transforms transforms, Long steps, Long scheduleSteps,
                               Duration timeBudget, Duration scheduleBudget, Path out, String device, Integer threads, long seed,
                               long checkpointEvery, int keep, Path initFrom) {

    public PretrainSettings {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(transforms, "transforms");
        Objects.requireNonNull(out, "out");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (scheduleBudget != null && (scheduleBudget.isNegative() || scheduleBudget.isZero())) {
            throw new IllegalArgumentException("the schedule budget must be positive, got " + scheduleBudget);
        }
        if (scheduleBudget != null && timeBudget == null) {
            throw new IllegalArgumentException("a schedule fitted to " + scheduleBudget + " needs a time budget");
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 0, got " + checkpointEvery);
        }
    }

    /** The dataset a modality trains on when none is named: small, fetched from the package registries. */
    public static String defaultData(Modality m) {
        return switch (m) {
            case IMAGE -> "mnist";
            case AUDIO -> "spoken-digits";
            case TEXT -> "wordnet";
        };
    }

    /** .d2v/runs/pretrain-&lt;modality&gt; */
    public static Path defaultOut(Modality m) {
        return Path.of(".d2v", "runs", "pretrain-" + m.id());
    }

    /** Whether a new run fits its schedules to scheduleBudget (no step count given). */
    public boolean fitsSchedule() {
        return steps == null && scheduleSteps == null && scheduleBudget != null;
    }

    /** The step the run trains to; Long.MAX_VALUE when only time bounds it. */
    public long targetStep() {
        return targetStep(steps, scheduleSteps, scheduleBudget, preset);
    }

    /**
     * The step a run trains to: the step budget; else, with a schedule budget and no schedule length, no step
     * (Long.MAX_VALUE: the schedules are fitted to the time); else the preset's schedule length.
     */
    public static long targetStep(Long steps, Long scheduleSteps, Duration scheduleBudget, Data2VecConfig preset) {
        if (steps != null) {
            return steps;
        }
        return scheduleSteps == null && scheduleBudget != null ? Long.MAX_VALUE : preset.optim().totalSteps();
    }
}
