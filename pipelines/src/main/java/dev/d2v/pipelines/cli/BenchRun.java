package dev.d2v.pipelines.cli;

import dev.d2v.infra.FileTrees;
import dev.d2v.pipelines.bench.BenchResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** What the benchmarks that work in a scratch folder share: JSON lines on stdout, progress on stderr, the folder removed. */
final class BenchRun {

    /** One benchmark's body. */
    interface Body {
        void run(Path work, Consumer<BenchResult> sink, Consumer<String> log) throws Exception;
    }

    /** The timing options of the benches that time calls side by side: calls per engine and the batch sizes. */
    static final class Timing {
        @Option(names = "--rounds", paramLabel = "N", defaultValue = "30", description = "Timed calls per model and batch size (default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--batches", paramLabel = "N[,N]", split = ",", defaultValue = "1,64",
                description = "Batch sizes timed, at most 64 (default: ${DEFAULT-VALUE})")
        List<Integer> batches;

        /** The batch sizes, each checked to lie within the probe's batches. */
        List<Integer> batches() {
            if (batches.stream().anyMatch(b -> b < 1 || b > 64)) {
                throw new UserError("--batches: each between 1 and 64, got " + batches);
            }
            return batches;
        }
    }

    private BenchRun() {}

    static void inScratchFolder(CommandSpec spec, String name, Body body) throws Exception {
        Path work = Files.createTempDirectory("d2v-bench-" + name + "-");
        PrintWriter out = spec.commandLine().getOut();
        try {
            body.run(work, r -> {
                out.println(r.json());
                out.flush();
            }, line -> System.err.println("bench " + name + ": " + line));
        } finally {
            FileTrees.delete(work);
        }
    }
}
