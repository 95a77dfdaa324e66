package dev.d2v.pipelines.cli;

import dev.d2v.infra.FileTrees;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.bench.DistillBench;
import dev.d2v.train.run.Devices;
import java.io.PrintWriter;
import java.nio.file.Files;
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

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "30", description = "Timed calls per model, engine and batch size (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--batches", paramLabel = "N[,N]", split = ",", defaultValue = "1,64",
            description = "Batch sizes timed, at most 64 (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Override
    public Integer call() throws Exception {
        if (batches.stream().anyMatch(b -> b < 1 || b > 64)) {
            throw new UserError("--batches: each between 1 and 64, got " + batches);
        }
        PipelineConfig c = cfg.load();
        Devices.configureThreads(1);
        Path work = Files.createTempDirectory("d2v-bench-distill-");
        PrintWriter out = spec.commandLine().getOut();
        try {
            DistillBench.run(new DistillBench.Options(teacher, student, task, rounds, batches, work),
                    new DataCommand.CacheOptions().context(c), r -> {
                        out.println(r.json());
                        out.flush();
                    }, line -> System.err.println("bench distill: " + line));
        } finally {
            FileTrees.delete(work);
        }
        return 0;
    }
}
