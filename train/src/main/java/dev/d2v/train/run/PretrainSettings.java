package dev.d2v.train.run;

import dev.d2v.infra.Modality;
import dev.d2v.ingest.data.DataContext;
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
 * @param steps           train until this step in total; null: the preset's schedule length
 * @param scheduleSteps   length of the LR / tau schedules; null: {@code steps} on a new run, the checkpoint's on a
 *                        resumed one
 * @param timeBudget      stop (with a checkpoint) after this much wall time; null: none
 * @param out             run folder: checkpoints/, metrics.jsonl, encoder/ (vocabulary.txt for text)
 * @param device          cpu or gpu
 * @param threads         PyTorch intra-op threads; null: one per core
 * @param seed            initialisation, masks, data order
 * @param checkpointEvery checkpoint at every multiple of this step (0: only at the end)
 * @param keep            keep the last K checkpoints
 */
public record PretrainSettings(Modality modality, String data, DataContext dataContext, Integer limit, int batchSize,
                               Data2VecConfig preset, String presetName, Long steps, Long scheduleSteps,
                               Duration timeBudget, Path out, String device, Integer threads, long seed,
                               long checkpointEvery, int keep) {

    public PretrainSettings {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(out, "out");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
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

    /** The step the run trains to. */
    public long targetStep() {
        return steps != null ? steps : preset.optim().totalSteps();
    }
}
