package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;

import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.PretrainRunner;
import dev.d2v.train.run.PretrainSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v pretrain`: data2vec 2.0 on one modality from local data, no Kafka (the offline path of the trainer). */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = {"Pretrains a data2vec 2.0 encoder on one modality from a dataset or folder, offline.",
                "Writes checkpoints, metrics.jsonl and encoder/encoder.safetensors under --out; a second run with the",
                "same --out resumes from the newest valid checkpoint. Ctrl-C stops after the current step and checkpoints."})
public final class PretrainCommand implements Callable<Integer> {

    @Option(names = "--modality", required = true, paramLabel = "M", description = "image, audio or text")
    String modality;

    @Option(names = "--data", paramLabel = "NAME|PATH",
            description = "A dataset (fashion-mnist, mnist, spoken-digits, wordnet, austen, ...) or a folder / JSONL file "
                    + "(default: mnist, spoken-digits, wordnet by modality)")
    String data;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--steps", paramLabel = "N", description = "Train until step N in total (default: the preset's schedule length, or with --minutes as many steps as fit)")
    Long steps;

    @Option(names = "--schedule-steps", paramLabel = "N",
            description = "Length of the LR / tau schedules (default: --steps on a new run, the checkpoint's on a resumed one)")
    Long scheduleSteps;

    @Option(names = "--minutes", paramLabel = "M", description = "Stop after M minutes of this run (checkpointed; rerun to continue). Without --steps or "
                    + "--schedule-steps a new run fits its LR / tau schedules to the M minutes from the pace of its first steps")
    Double minutes;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: .d2v/runs/pretrain-<modality>)")
    Path out;

    @Option(names = "--batch-size", paramLabel = "B", description = "Minibatch size (default: batch.<modality> of the config)")
    Integer batchSize;

    @Mixin
    DeviceOptions devices;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation, masks, data order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "N", description = "Steps between checkpoints (default: ${DEFAULT-VALUE})")
    long every;

    @Option(names = "--keep", defaultValue = "3", paramLabel = "K", description = "Keep the last K checkpoints (default: ${DEFAULT-VALUE})")
    int keep;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N training records")
    Integer limit;

    @Option(names = "--init-from", paramLabel = "CHECKPOINT",
            description = {"Start the trunk (the main blocks) from this checkpoint's student, e.g. an image run's for an",
                    "audio run (cross-modality transfer); the local encoder and decoder start new. A new run only"})
    Path initFrom;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        Modality m = Modality.parse(modality);
        ModelOptions.checkInitFrom(initFrom);
        PipelineConfig c = cfg.load();
        Data2VecConfig preset = modelOptions.config();   // a bad --set fails before any data is read
        Duration budget = minutes == null ? null : Duration.ofMillis((long) (minutes * 60_000));
        PretrainSettings settings = new PretrainSettings(m, data != null ? data : PretrainSettings.defaultData(m),
                cache.context(c), limit, batchSize != null ? batchSize : c.batch().of(m), preset, modelOptions.describe(),
                modelOptions.transforms(c),
                steps, scheduleSteps, budget, budget,
                out != null ? out : PretrainSettings.defaultOut(m), devices.name(), devices.requestedThreads(), seed,
                every, keep, initFrom);
        try (StopOnShutdown stop = new StopOnShutdown("pretrain-shutdown")) {
            new PretrainRunner(System.out).run(settings, stop);
        }
        return 0;
    }
}
