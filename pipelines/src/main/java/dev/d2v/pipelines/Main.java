package dev.d2v.pipelines;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.cli.AblateCommand;
import dev.d2v.pipelines.cli.BenchCommand;
import dev.d2v.pipelines.cli.DataCommand;
import dev.d2v.pipelines.cli.DemoCommand;
import dev.d2v.pipelines.cli.DistillCommand;
import dev.d2v.pipelines.cli.Errors;
import dev.d2v.pipelines.cli.EmbedCommand;
import dev.d2v.pipelines.cli.EvaluateCommand;
import dev.d2v.pipelines.cli.ExportCommand;
import dev.d2v.pipelines.cli.FlinkCommand;
import dev.d2v.pipelines.cli.IngestCommand;
import dev.d2v.pipelines.cli.KafkaCommand;
import dev.d2v.pipelines.cli.PreprocessCommand;
import dev.d2v.pipelines.cli.PretrainCommand;
import dev.d2v.pipelines.cli.TrainCommand;
import dev.d2v.pipelines.cli.UserError;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `./d2v` command line. Each subcommand is its own class; this one only wires them and maps errors. */
@Command(name = "d2v", mixinStandardHelpOptions = true, version = "d2v 0.1.0",
        description = "Streaming data2vec 2.0 pretraining: Kafka -> Flink -> DJL trainer -> evaluation.",
        subcommands = {KafkaCommand.class, FlinkCommand.class, DataCommand.class, IngestCommand.class, PreprocessCommand.class, PretrainCommand.class,
                TrainCommand.class, EvaluateCommand.class, AblateCommand.class, ExportCommand.class, EmbedCommand.class, DistillCommand.class, DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The system property set by {@link #main} to the subcommand the JVM was started for ("evaluate" for
     * {@code ./d2v evaluate ...}); unset when the command line runs inside another program (a test, or
     * {@code d2v demo} running its stages in-process). A command reads it to decide whether it may change
     * process-wide settings such as the scheduling priority.
     */
    public static final String PROCESS_COMMAND_PROPERTY = "d2v.process.command";

    public static void main(String[] args) {
        Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst()
                .ifPresent(command -> System.setProperty(PROCESS_COMMAND_PROPERTY, command));
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code: 0 ok, 1 failed, 2 usage or configuration error. */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        return cl;
    }

    private static int handle(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        boolean userError = ex instanceof UserError || ex instanceof PipelineConfig.ConfigException
                || ex instanceof IllegalArgumentException;
        err.println("d2v " + cmd.getCommandName() + ": error: " + Errors.message(ex));
        if (System.getenv("D2V_DEBUG") != null) {
            ex.printStackTrace(err);
        } else if (!userError) {
            err.println("(set D2V_DEBUG=1 for the stack trace)");
        }
        err.flush();
        return userError ? 2 : 1;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
