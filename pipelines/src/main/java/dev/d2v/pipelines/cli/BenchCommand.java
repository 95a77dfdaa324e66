package dev.d2v.pipelines.cli;

import picocli.CommandLine.Command;

/** `d2v bench <suite>`: benchmarks that print one JSON object per line ({@code name}, {@code value}, {@code unit}, parameters). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks; each suite prints one JSON object per line: name, value, unit and its parameters.",
        subcommands = {BenchPreprocessCommand.class, BenchTrainStreamCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
