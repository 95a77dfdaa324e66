package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.EvaluationRunner;
import dev.d2v.evaluate.EvaluationSettings;
import dev.d2v.evaluate.cpu.CpuShare;
import dev.d2v.evaluate.finetune.FineTune;
import dev.d2v.evaluate.follow.FollowPolicy;
import dev.d2v.evaluate.promote.Promoter;
import dev.d2v.export.ExportPackage;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.train.model.Readout;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `d2v evaluate --checkpoint DIR | --follow`: linear probe, k-NN and fine-tuning of one checkpoint, or of each one
 * announced on d2v.checkpoints, against a random-init baseline, within --cpu-share of the machine. The options map to
 * {@link EvaluationSettings}; {@link EvaluationRunner} does the work.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluates a checkpoint: frozen-encoder features (--readout), a linear probe and k-NN per probe",
                "task, fine-tuning of the encoder with a classification head (a fixed small budget), and the same for",
                "a randomly initialised encoder of the same shape; writes results JSON and the HTML report under --out.",
                "Beside a trainer (--follow) it keeps to --cpu-share of the machine at --nice priority."})
public final class EvaluateCommand implements Callable<Integer> {

    /**
     * The system property that {@code Main.main} sets to the command its process was started for ("evaluate" for
     * {@code ./d2v evaluate ...}); unset when the command line runs inside another program (a test, the demo).
     */
    static final String PROCESS_COMMAND_PROPERTY = "d2v.process.command";

    static final class What {
        @Option(names = "--checkpoint", paramLabel = "DIR", description = "Evaluate one checkpoint step folder")
        Path checkpoint;

        @Option(names = "--follow", description = "Follow d2v.checkpoints and evaluate checkpoints as they arrive (until Ctrl-C, "
                + "--max-checkpoints or --idle-stop-seconds)")
        boolean follow;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    @Option(names = "--policy", defaultValue = "newest", paramLabel = "each|newest",
            description = "--follow: evaluate each checkpoint, or only the newest when behind (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--group", defaultValue = "d2v-evaluator", description = "--follow: consumer group (default: ${DEFAULT-VALUE})")
    String group;

    @Option(names = "--max-checkpoints", defaultValue = "0", paramLabel = "N",
            description = "--follow: stop after the poll in which the N-th checkpoint was evaluated or refused (default: 0, no limit)")
    int maxCheckpoints;

    @Option(names = "--until-step", paramLabel = "N",
            description = {"--follow: stop once a checkpoint at step N or later has been evaluated or refused (also when",
                    "an earlier run of this follower already did) (default: no such stop)"})
    Long untilStep;

    @Option(names = "--checkpoint-root", paramLabel = "DIR",
            description = "--follow: evaluate only checkpoints whose location lies under DIR; an event naming another path"
                    + " is refused (default: the working directory)")
    Path checkpointRoot;

    @Option(names = "--idle-stop-seconds", defaultValue = "0", paramLabel = "S",
            description = "--follow: stop when no checkpoint event arrived for S seconds (default: 0, never)")
    int idleStopSeconds;

    @Option(names = "--cpu-share", paramLabel = "F",
            description = {"Fraction of the machine's cores the evaluator may use, 0 < F <= 1: its threads (PyTorch,",
                    "linear probe, k-NN) are capped at max(1, floor(F x cores)), and where one thread is more than the",
                    "share it sleeps after each chunk of work to stay within it (default: "
                            + EvaluationSettings.FOLLOW_CPU_SHARE + " with --follow, beside a trainer; 1 with --checkpoint)"})
    Double cpuShare;

    @Option(names = "--nice", defaultValue = "" + EvaluationSettings.DEFAULT_NICE, paramLabel = "N",
            description = "Scheduling priority of the evaluator's process (renice on every thread; 0 = leave it; only when "
                    + "`d2v evaluate` is the process, not inside another command) (default: ${DEFAULT-VALUE})")
    int nice;

    @Option(names = "--publish", negatable = true,
            description = "Publish results to d2v.eval (default: on with --follow, off with --checkpoint)")
    Boolean publish;

    @Option(names = {"--task", "--probe-dir"}, paramLabel = "NAME|DIR", description = "Probe task(s) (default: the shipped tasks of each trained modality)")
    List<String> tasks = List.of();

    @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N", description = "At most N training records per task (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "At most N test records per task (0 = all)")
    int testLimit;

    @Option(names = "--out", paramLabel = "DIR", description = "Results, feature cache and report (default: <run>/eval next to the "
            + "checkpoints folder; with --follow .d2v/eval)")
    Path out;

    @Option(names = "--json", description = "Print one JSON object per result on stdout")
    boolean json;

    @Option(names = "--readout", defaultValue = "layers", paramLabel = "layers|last",
            description = {"Encoder outputs the linear probe reads, each mean-pooled: layers (the local encoder's and the last",
                    "four blocks', concatenated) or last (the last block's); the k-NN reads the last block's (default:",
                    "${DEFAULT-VALUE})"})
    String readoutName;

    @Option(names = "--promote", paramLabel = "TASK:PROTOCOL",
            description = {"Keep the best checkpoint per modality by this metric (e.g. fashion-mnist:linear): a checkpoint",
                    "that beats the best so far by --promote-min-gain is promoted (promotion.json, d2v.promotions when",
                    "following, and with --promote-export the current package) (default: no promotion)"})
    String promote;

    @Option(names = "--promote-min-gain", defaultValue = "0.5", paramLabel = "POINTS",
            description = "Accuracy points a checkpoint must add over the promoted one (default: ${DEFAULT-VALUE})")
    double promoteMinGain;

    @Option(names = "--promote-export", paramLabel = "DIR",
            description = {"Export each promoted checkpoint (./d2v export) into DIR/<modality>/<checkpoint> and point",
                    "DIR/<modality>/current at it (the one before stays as previous)"})
    Path promoteExport;

    @Option(names = "--promote-int8", description = "Promoted packages also carry the int8 models")
    boolean promoteInt8;

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
    DeviceOptions devices;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        PipelineConfig c = cfg.load();
        EvaluationSettings settings = settings(c);
        EvaluationRunner runner = new EvaluationRunner(settings, cache.context(c), devices::open, System.out,
                System.err::println);
        CpuShare cpu = runner.cpu();
        System.err.println("cpu share: " + cpu.describe()
                + (devices.requestedThreads() != null && devices.requestedThreads() > cpu.threads()
                ? "; --threads " + devices.requestedThreads() + " lowered to " + cpu.threads() : ""));
        if (what.follow) {
            runner.follow();
        } else {
            runner.evaluate(what.checkpoint);
        }
        return 0;
    }

    /** The options as the runner's settings; a wrong value is a usage error (exit 2). */
    EvaluationSettings settings(PipelineConfig c) {
        EvaluationSettings.Follow follow = new EvaluationSettings.Follow(FollowPolicy.parse(policy), group,
                maxCheckpoints, untilStep, idleStopSeconds, checkpointRoot);
        double share = cpuShare != null ? cpuShare : what.follow ? EvaluationSettings.FOLLOW_CPU_SHARE : 1.0;
        boolean publishing = publish != null ? publish : what.follow;
        return new EvaluationSettings(tasks, trainLimit, testLimit, out, publishing, json, finetuneConfig(),
                readout(readoutName), share,
                reniceBy(nice), follow, c.kafka().clientProps(), c.topicNames(), promotion());
    }

    /** --readout's value; a wrong one is a usage error. */
    static Readout readout(String name) {
        try {
            return Readout.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UserError("--readout: " + e.getMessage());
        }
    }

    /**
     * The nice value the runner may apply: --nice when `d2v evaluate` is the process, else 0 (checked first, so that
     * a wrong value is refused either way). Inside another command (the demo, a test) lowering the priority would slow
     * everything else in that process too.
     */
    private static int reniceBy(int nice) {
        if (nice < 0 || nice > 19) {
            throw new UserError("--nice must be in 0..19, got " + nice);
        }
        if (nice != 0 && !"evaluate".equals(System.getProperty(PROCESS_COMMAND_PROPERTY))) {
            System.err.println("nice: skipped, the evaluator runs inside another command (its process is not its own)");
            return 0;
        }
        return nice;
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

    /** The promotion of --promote, or null. */
    EvaluationSettings.Promotion promotion() {
        if (promote == null) {
            if (promoteExport != null || promoteInt8) {
                throw new UserError("--promote-export and --promote-int8 need --promote TASK:PROTOCOL");
            }
            return null;
        }
        Promoter.Policy policy;
        try {
            policy = Promoter.Policy.parse(promote, promoteMinGain / 100, promoteExport);
        } catch (IllegalArgumentException e) {
            throw new UserError("--promote: " + e.getMessage());
        }
        boolean int8 = promoteInt8;
        return new EvaluationSettings.Promotion(policy, promoteExport == null ? null
                : (checkpoint, m, folder) -> ExportPackage.fromCheckpoint(checkpoint, List.of(m), int8, folder, "d2v 0.1.0"));
    }
}
