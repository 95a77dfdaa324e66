package dev.d2v.pipelines.cli;

import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.job.LocalPreprocessRunner;
import dev.d2v.preprocess.job.LocalPreprocessSettings;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v preprocess`: its options as {@link LocalPreprocessSettings}, run by {@link LocalPreprocessRunner}. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Runs the preprocessing jobs (d2v.raw.<m> -> transform -> batcher -> d2v.batch.<m>, exactly once;"
                + " bad records -> d2v.deadletter) on a local Flink MiniCluster until Ctrl-C, or with --bounded until the"
                + " raw topics' end offsets at start are processed.",
                "A cancelled run retains its last checkpoint (<cacheDir>/flink); the next run restores it, so no pending"
                        + " sample is lost (--fresh drops it).",
                "On a cluster the same jobs run from the shaded jar: see preprocess/TRANSFORMS.md."})
public final class PreprocessCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--modality", paramLabel = "M", defaultValue = "all",
            description = "image, audio, text or all (one Flink job with a pipeline each; default: ${DEFAULT-VALUE})")
    String modality;

    @Option(names = {"--bounded", "--until-caught-up"},
            description = "Stop once the records in the raw topics at start are processed (the last batch may be partial)")
    boolean bounded;

    @Option(names = "--parallelism", paramLabel = "N",
            description = "Parallel transform and batcher tasks per modality; up to the raw topics' partitions (default: "
                    + LocalPreprocessSettings.DEFAULT_PARALLELISM + ")")
    Integer parallelism;

    @Option(names = "--epoch", paramLabel = "E",
            description = "Augmentation epoch: crops and flips are seeded by (sample id, epoch) (default: 0)")
    Long epoch;

    @Option(names = "--batch-size", paramLabel = "N",
            description = "Override every modality's batch size (default: batch.* in the configuration)")
    Integer batchSize;

    @Option(names = "--partial-timeout-ms", paramLabel = "MS",
            description = "Send a short batch, marked partial, this long after its first sample (default: "
                    + BatchSpec.DEFAULT_TIMEOUT_MS + ")")
    Long partialTimeoutMs;

    @Option(names = "--checkpoint-interval-ms", paramLabel = "MS",
            description = "Checkpoint (and batch visibility) interval (default: "
                    + PreprocessJobConfig.DEFAULT_CHECKPOINT_INTERVAL_MS + ")")
    Long checkpointIntervalMs;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "Text vocabulary; built from d2v.raw.text and saved here when missing (default: <cacheDir>/vocab/text.vocab)")
    Path vocab;

    @Option(names = "--vocab-records", paramLabel = "N",
            description = "At most N raw text records to build a missing vocabulary from (default: "
                    + LocalPreprocessSettings.DEFAULT_VOCAB_RECORDS + ")")
    Integer vocabRecords;

    @Option(names = "--fresh",
            description = "Ignore and delete the state a cancelled run retained (its pending samples, fewer than one batch"
                    + " per batcher, are then lost) and start from the consumer group's committed offsets")
    boolean fresh;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where local runs retain their Flink checkpoints (default: <cacheDir>/flink)")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        LocalPreprocessSettings settings = new LocalPreprocessSettings(PreprocessOptions.parseModalities(modality),
                bounded, parallelism, epoch, batchSize, partialTimeoutMs, checkpointIntervalMs, vocab, vocabRecords,
                fresh, stateDir);
        new LocalPreprocessRunner(cfg.load(), System.out).run(settings);
        return 0;
    }
}
