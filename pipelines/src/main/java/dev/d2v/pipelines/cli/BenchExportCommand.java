package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.bench.ExportBench;
import dev.d2v.train.run.Devices;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `d2v bench export`: see {@link ExportBench}. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"The exported encoder against DJL on a probe task, one thread: onnx_vs_djl_max_abs_diff,",
                "int8_size_ratio, int8_cosine_min (per token, to fp32), int8_probe_drop (linear-probe points),",
                "ort_fp32_vs_djl_speedup and int8_vs_fp32_speedup at batch 1 and 64 (medians of interleaved calls).",
                "Without --checkpoint: an untrained cpu-preset image checkpoint. A few minutes with the default limits."})
public final class BenchExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "Checkpoint folder (default: a fresh untrained cpu-preset image one)")
    Path checkpoint;

    @Option(names = "--task", paramLabel = "NAME|DIR", defaultValue = "fashion-mnist",
            description = "Probe task: a dataset name or a labeled folder (default: ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "10000", description = "Probe training records (default: ${DEFAULT-VALUE}; 0: all)")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "2000", description = "Probe test records (default: ${DEFAULT-VALUE}; 0: all)")
    int testLimit;

    @Mixin
    BenchRun.Timing timing;

    @Override
    public Integer call() throws Exception {
        List<Integer> batches = timing.batches();
        PipelineConfig c = cfg.load();
        Devices.configureThreads(1);
        BenchRun.inScratchFolder(spec, "export", (work, sink, log) -> ExportBench.run(
                new ExportBench.Options(checkpoint, task, trainLimit, testLimit, timing.rounds, batches, work),
                new DataCommand.CacheOptions().context(c), sink, log));
        return 0;
    }
}
