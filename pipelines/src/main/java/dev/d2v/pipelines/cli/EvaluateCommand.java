package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.report.Report;
import dev.d2v.evaluate.results.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.pipelines.eval.CheckpointEvaluation;
import dev.d2v.train.finetune.FineTune;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v evaluate --checkpoint DIR`: linear probe, k-NN and fine-tuning of one checkpoint against a random-init
 * baseline.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluates a checkpoint: frozen-encoder features (mean-pooled), a linear probe and k-NN per probe",
                "task, fine-tuning of the encoder with a classification head (a fixed small budget), and the same for",
                "a randomly initialised encoder of the same shape; writes results JSON and the HTML report under --out."})
public final class EvaluateCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint step folder")
    Path checkpoint;

    @Option(names = "--task", paramLabel = "NAME|DIR", description = "Probe task(s) (default: the shipped tasks of each trained modality)")
    List<String> tasks = List.of();

    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "At most N training records per task (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "At most N test records per task (0 = all)")
    int testLimit;

    @Option(names = "--out", paramLabel = "DIR", description = "Results, feature cache and report (default: <run>/eval, next to the checkpoints folder)")
    Path out;

    @Option(names = "--json", description = "Print one JSON object per result on stdout")
    boolean json;

    @Option(names = "--no-finetune", description = "Skip the fine-tuning protocol (linear probe and k-NN only)")
    boolean noFinetune;

    @Option(names = "--finetune-epochs", paramLabel = "E",
            description = "Fine-tuning budget in passes over each task's training split (default: a fixed number of updates, --finetune-steps)")
    Integer finetuneEpochs;

    @Option(names = "--finetune-steps", paramLabel = "N",
            description = "Fine-tuning budget in updates of " + FineTune.Config.DEFAULT_BATCH_SIZE + " samples (default: "
                    + FineTune.Config.DEFAULT_STEPS + ")")
    Long finetuneSteps;

    @Mixin
    dev.d2v.pipelines.train.DeviceOptions devices;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        D2vConfig c = cfg.load();
        ai.djl.Device dev = devices.open();
        Path folder = checkpoint.toAbsolutePath().normalize();
        Path dir = out != null ? out.toAbsolutePath() : folder.getParent().getParent().resolve("eval");
        Files.createDirectories(dir);
        CheckpointEvaluation e = new CheckpointEvaluation(cache.context(c), new FeatureCache(dir.resolve("features")),
                new CheckpointEvaluation.Options(tasks, trainLimit, testLimit, 256, 7, dev,
                        FrozenFeatureProbes.Config.defaults(), finetuneConfig()),
                msg -> System.err.println(msg));
        List<EvalResult> results = e.evaluate(folder);
        ResultsFile.merge(dir.resolve("results"), results);
        Path metrics = folder.getParent().getParent().resolve("metrics.jsonl");
        Report.rebuild(dir.resolve("results"), metrics, dir.resolve("report.html"), Instant.now());
        if (json) {
            results.forEach(r -> System.out.println(r.toJsonLine()));
        } else {
            System.out.println(Report.terminalTable(results));
            System.out.println("report: " + dir.resolve("report.html"));
        }
        return 0;
    }

    /** The fine-tuning settings from the options; null with --no-finetune. */
    FineTune.Config finetuneConfig() {
        if (noFinetune) {
            if (finetuneEpochs != null || finetuneSteps != null) {
                throw new UserError("--no-finetune and a fine-tuning budget (--finetune-epochs/--finetune-steps) exclude each other");
            }
            return null;
        }
        if (finetuneEpochs != null && finetuneSteps != null) {
            throw new UserError("give the fine-tuning budget as --finetune-epochs or --finetune-steps, not both");
        }
        FineTune.Config c = FineTune.Config.defaults();
        try {
            if (finetuneEpochs != null) {
                if (finetuneEpochs < 1) {
                    throw new UserError("--finetune-epochs must be >= 1, got " + finetuneEpochs);
                }
                return c.withEpochs(finetuneEpochs);
            }
            if (finetuneSteps != null && finetuneSteps < 1) {
                throw new UserError("--finetune-steps must be >= 1, got " + finetuneSteps);
            }
            return finetuneSteps != null ? c.withSteps(finetuneSteps) : c;
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
