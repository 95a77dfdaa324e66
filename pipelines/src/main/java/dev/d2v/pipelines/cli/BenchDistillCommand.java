package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.bench.DistillBench;
import dev.d2v.train.run.Devices;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `d2v bench distill`: see {@link DistillBench}. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = {"A distilled student against its teacher, one thread: student_parameter_ratio,",
                "student_onnx_size_ratio, student_vs_teacher_speedup_djl and _onnx at batch 1 and 64 (medians of",
                "interleaved calls on the task's test inputs). Probe accuracy: ./d2v evaluate on each checkpoint."})
public final class BenchDistillCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--teacher", required = true, paramLabel = "DIR", description = "The teacher checkpoint folder")
    Path teacher;

    @Option(names = "--student", required = true, paramLabel = "DIR", description = "The student checkpoint folder (./d2v distill)")
    Path student;

    @Option(names = "--task", paramLabel = "NAME|DIR", defaultValue = "fashion-mnist",
            description = "A probe task of the distilled modality (default: ${DEFAULT-VALUE})")
    String task;

    @Mixin
    BenchRun.Timing timing;

    @Override
    public Integer call() throws Exception {
        List<Integer> batches = timing.batches();
        PipelineConfig c = cfg.load();
        Devices.configureThreads(1);
        BenchRun.inScratchFolder(spec, "distill", (work, sink, log) -> DistillBench.run(
                new DistillBench.Options(teacher, student, task, timing.rounds, batches, work),
                new DataCommand.CacheOptions().context(c), sink, log));
        return 0;
    }
}
