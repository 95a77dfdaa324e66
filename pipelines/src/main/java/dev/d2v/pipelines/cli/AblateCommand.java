package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.EvaluationSettings;
import dev.d2v.evaluate.finetune.FineTune;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.ablate.AblationRunner;
import dev.d2v.pipelines.ablate.AblationSettings;
import dev.d2v.pipelines.ablate.Factor;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.run.PretrainSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v ablate`: pretraining and evaluation for each variant of a grid of config overrides and each seed, under one
 * budget, through the same runners as `pretrain` and `evaluate`. The options map to {@link AblationSettings};
 * {@link AblationRunner} does the work.
 */
@Command(name = "ablate", mixinStandardHelpOptions = true,
        description = {"Ablations: one pretraining run per variant and seed under the same step or time",
                "budget, each checkpoint evaluated (linear probe and k-NN on the frozen encoder;",
                "fine-tuning with --finetune). Writes ablation.jsonl (a line per variant, seed,",
                "step, task and protocol), ablation.html (accuracy against steps per variant)",
                "and a table. Several --vary options make a grid. The same command again resumes:",
                "finished runs are skipped, an interrupted one continues from its checkpoint.",
                "e.g. --modality image --steps 150 --vary image.targets.average_top_k_layers=1,2,4"})
public final class AblateCommand implements Callable<Integer> {

    @Option(names = "--modality", required = true, paramLabel = "M", description = "image, audio or text")
    String modality;

    @Option(names = "--data", paramLabel = "NAME|PATH",
            description = "A dataset (fashion-mnist, mnist, spoken-digits, wordnet, ...) or a folder / JSONL file "
                    + "(default: mnist, spoken-digits, wordnet by modality)")
    String data;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--vary", paramLabel = "KEY=V1,V2,...",
            description = {"A factor: a config key (as for --set) and its values, comma-separated; the key",
                    "'preset' varies the preset. Repeatable: the runs are every combination, e.g.",
                    "image.targets.average_top_k_layers=1,2,4, preset=tiny,cpu, optim.lr=5e-4,1e-3"})
    List<String> vary = new ArrayList<>();

    @Option(names = "--seeds", split = ",", paramLabel = "SEED", defaultValue = "1",
            description = "One run per variant and seed (default: ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(names = "--steps", paramLabel = "N", description = "Train each run until step N (default: the preset's schedule length)")
    Long steps;

    @Option(names = "--minutes", paramLabel = "M",
            description = "Wall time of pretraining per run, in --checkpoints equal parts each ending with a checkpoint "
                    + "(with --steps: whichever comes first; without --steps or --schedule-steps the LR / tau schedules "
                    + "are fitted to the M minutes, as pretrain does)")
    Double minutes;

    @Option(names = "--schedule-steps", paramLabel = "N",
            description = "Length of the LR / tau schedules (default: --steps; else fitted to --minutes; else the preset's)")
    Long scheduleSteps;

    @Option(names = "--checkpoints", paramLabel = "K", defaultValue = "" + AblationSettings.DEFAULT_CHECKPOINTS,
            description = "Checkpoints per run, each evaluated (default: ${DEFAULT-VALUE})")
    int checkpoints;

    @Option(names = "--name", paramLabel = "NAME",
            description = "The sweep's name: its folder .d2v/ablate/NAME (default: modality, data and the varied keys)")
    String name;

    @Option(names = "--out", paramLabel = "DIR", description = "The sweep's folder (default: .d2v/ablate/<name>)")
    Path out;

    @Option(names = "--batch-size", paramLabel = "B", description = "Minibatch size (default: batch.<modality> of the config)")
    Integer batchSize;

    @Option(names = "--limit", paramLabel = "N", description = "Pretrain on the first N training records only")
    Integer limit;

    @Option(names = "--task", paramLabel = "NAME|DIR", description = "Probe task(s) (default: the --data set)")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "At most N training records per probe task (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "At most N test records per probe task (0 = all)")
    int testLimit;

    @Option(names = "--readout", defaultValue = "layers", paramLabel = "layers|last",
            description = {"Encoder outputs the linear probe reads, each mean-pooled: layers (the local encoder's and the last",
                    "four blocks', concatenated) or last (the last block's); the k-NN reads the last block's (default:",
                    "${DEFAULT-VALUE})"})
    String readoutName;

    @Option(names = "--finetune", description = "Also fine-tune each checkpoint (the evaluator's default budget); off by default")
    boolean finetune;

    @Mixin
    DeviceOptions devices;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        PipelineConfig c = cfg.load();
        AblationSettings settings = settings(c);
        try (StopOnShutdown stop = new StopOnShutdown("ablate-shutdown")) {
            new AblationRunner(System.out, System.err).run(settings, stop);
        }
        return 0;
    }

    /**
     * The configuration's model.set, then every --set, model fields and {@code transforms.} keys alike (the
     * configuration's transforms.set is already in the sweep's base transforms, {@code Transforms.of}).
     */
    private List<String> overrides(PipelineConfig c) {
        List<String> all = new ArrayList<>(c.model().set());
        all.addAll(modelOptions.overrides);
        return all;
    }

    /** The options as the runner's settings; a wrong value is a usage error (exit 2) naming the option. */
    AblationSettings settings(PipelineConfig c) {
        Modality m = Modality.parse(modality);
        String dataName = data != null ? data : PretrainSettings.defaultData(m);
        List<Factor> factors = new ArrayList<>();
        try {
            for (String v : vary) {
                Factor f = Factor.parse(v);
                for (String set : modelOptions.overrides) {
                    if (set.startsWith(f.key() + "=")) {
                        throw new UserError("--vary " + f.key() + ": the key is fixed by --set " + set + " as well");
                    }
                }
                factors.add(f);
            }
            EvaluationSettings evaluation = new EvaluationSettings(tasks.isEmpty() ? List.of(dataName) : tasks,
                    trainLimit, testLimit, null, false, false, finetune ? FineTune.Config.defaults() : null, EvaluateCommand.readout(readoutName), 1.0, 0,
                    EvaluationSettings.Follow.defaults(), c.kafka().clientProps(), c.topicNames(), null);
            Path folder = out != null ? out
                    : AblationSettings.defaultOut(name != null ? name : AblationSettings.defaultName(m, dataName, factors));
            return new AblationSettings(m, dataName, cache.context(c), limit,
                    batchSize != null ? batchSize : c.batch().of(m), modelOptions.preset(c), Transforms.of(c), overrides(c),
                    factors, seeds, steps, minutes == null ? null : Duration.ofMillis(Math.round(minutes * 60_000)),
                    scheduleSteps, checkpoints, folder, devices.name(), devices.requestedThreads(), evaluation);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }
}
