package dev.d2v.pipelines.cli;

import dev.d2v.evaluate.probe.ProbeBackend;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.bench.EvalBench;
import dev.d2v.train.run.Devices;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** `d2v bench evaluate`: see {@link EvalBench}. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"One evaluation of a checkpoint on one probe task, stage by stage: features of the checkpoint's",
                "encoder, of the random-init encoder and of the raw inputs, then the linear probe and k-NN on each.",
                "Prints one JSON object per stage: wall s (value), cpu_s, load average, accuracy, CPU model and flags.",
                "Without --checkpoint: an untrained cpu-preset image checkpoint. Full Fashion-MNIST: minutes."})
public final class BenchEvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "Checkpoint folder (default: a fresh untrained cpu-preset image one)")
    Path checkpoint;

    @Option(names = "--task", paramLabel = "NAME|DIR", defaultValue = "fashion-mnist",
            description = "Probe task: a dataset name or a labeled folder (default: ${DEFAULT-VALUE}, fetched into data.cacheDir)")
    String task;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0", description = "At most N training records (default: all)")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0", description = "At most N test records (default: all)")
    int testLimit;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", description = "Feature extraction batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--backends", paramLabel = "B[,B]", split = ",", defaultValue = "torch",
            description = "Probe backends, each on the same features: torch, java (the plain-Java reference) or both "
                    + "(default: ${DEFAULT-VALUE})")
    List<String> backends;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads (default: one per core)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        List<ProbeBackend> parsed = backends.stream().map(this::backend).toList();
        PipelineConfig c = cfg.load();
        Devices.configureThreads(threads);
        BenchRun.inScratchFolder(spec, "evaluate", (work, sink, log) -> EvalBench.run(
                new EvalBench.Options(checkpoint, task, trainLimit, testLimit, batch, parsed, work),
                new DataCommand.CacheOptions().context(c), sink, log));
        return 0;
    }

    private ProbeBackend backend(String name) {
        try {
            return ProbeBackend.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--backends: unknown backend '" + name + "' (torch or java)");
        }
    }
}
