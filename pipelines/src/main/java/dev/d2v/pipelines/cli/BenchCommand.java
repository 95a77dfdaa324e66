package dev.d2v.pipelines.cli;

import dev.d2v.pipelines.bench.TrainBench;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `d2v bench <stage>`: benchmarks that print one JSON object per line (name, value, unit, parameters). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: one JSON object per line on stdout (name, value, unit, parameters); progress on stderr.",
        subcommands = {BenchPreprocessCommand.class, BenchCommand.Train.class, BenchTrainStreamCommand.class,
                BenchEvaluateCommand.class, BenchExportCommand.class, BenchDistillCommand.class,
                BenchSoakCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Speed of the data2vec 2.0 training step on this machine (train/TRAIN.md \"Benchmarks\"):",
                    "inverse masking vs mask tokens, conv vs transformer decoder, teacher reuse over 8 clones,",
                    "samples/s, GFLOP/s against the CPU's fp32 peak, the fastest thread count, peak memory.",
                    "About 3-5 minutes on 2 cores; --quick about 30 s."})
    static final class Train implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--preset", defaultValue = "cpu", description = "Model preset: tiny, small, base, large, cpu (default: ${DEFAULT-VALUE})")
        String preset;

        @Option(names = "--batch", defaultValue = "32", description = "Samples per step (default: ${DEFAULT-VALUE}; --quick: 8)")
        int batch;

        @Option(names = "--quick", description = "Smoke run: batch 8, 1 warm-up and 3 timed steps per variant, image only")
        boolean quick;

        @Option(names = "--rounds", description = "Timed steps per variant, at most (default: 15, or fewer after ~25 s per measurement; --quick: 3)")
        Integer rounds;

        @Option(names = "--warmup", description = "Untimed steps per variant first (default: 2; --quick: 1)")
        Integer warmup;

        @Option(names = "--ratio-threads", defaultValue = "1",
                description = "Intra-op threads of the side-by-side ratios; 0 = the fastest found (default: ${DEFAULT-VALUE}: "
                        + "robust when other processes share the cores)")
        int ratioThreads;

        @Override
        public void run() {
            TrainBench.Options base = quick
                    ? TrainBench.Options.quick(preset, spec.commandLine().getParseResult().hasMatchedOption("--batch") ? batch : 8)
                    : TrainBench.Options.standard(preset, batch);
            TrainBench.Options o = base.with(warmup != null ? warmup : base.warmup(),
                    rounds != null ? rounds : base.rounds(), ratioThreads);
            PrintWriter out = spec.commandLine().getOut();
            try {
                TrainBench.run(o, r -> {
                    out.println(r.json());
                    out.flush();
                }, line -> System.err.println("bench train: " + line));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("bench train failed: " + e.getMessage(), e);
            }
        }
    }
}
