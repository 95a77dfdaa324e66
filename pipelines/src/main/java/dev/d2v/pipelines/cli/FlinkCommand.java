package dev.d2v.pipelines.cli;

import dev.d2v.preprocess.cluster.LocalFlinkCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `d2v flink`: a standalone Flink session cluster of Flink's own processes, and job submission to it. */
@Command(name = "flink", mixinStandardHelpOptions = true,
        description = "A standalone Flink session cluster (JobManager and TaskManager processes) on 127.0.0.1, and the"
                + " preprocessing job jar submitted to it with Flink's CLI.",
        subcommands = {FlinkCommand.Start.class, FlinkCommand.Run.class})
public final class FlinkCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final Path DEFAULT_DIR = Path.of(".d2v", "flink-cluster");

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {"Starts a JobManager and TaskManagers from the Flink jars (no flink-dist needed), bound to"
                    + " 127.0.0.1, and runs until Ctrl-C; prints the REST address (web UI).",
                    "Submit the preprocessing job with `./d2v flink run -- --modality image --config FILE`."})
    static final class Start implements Callable<Integer> {
        @Option(names = "--dir", paramLabel = "DIR", description = "Configuration, logs and working folders (default: .d2v/flink-cluster)")
        Path dir = DEFAULT_DIR;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "8081", description = "REST port on 127.0.0.1; 0 = a free port (default: ${DEFAULT-VALUE})")
        int port;

        @Option(names = "--taskmanagers", paramLabel = "N", defaultValue = "1", description = "TaskManager processes (default: ${DEFAULT-VALUE})")
        int taskManagers;

        @Option(names = "--slots", paramLabel = "S", defaultValue = "2", description = "Task slots per TaskManager (default: ${DEFAULT-VALUE})")
        int slots;

        @Option(names = "--taskmanager-memory", paramLabel = "SIZE", defaultValue = "1536m", description = "taskmanager.memory.process.size (default: ${DEFAULT-VALUE})")
        String taskManagerMemory;

        @Override
        public Integer call() throws Exception {
            LocalFlinkCluster cluster = LocalFlinkCluster.start(new LocalFlinkCluster.Settings(dir, port, slots,
                    taskManagerMemory, "1024m"), taskManagers);
            System.out.println("rest: " + cluster.restAddress() + " (web UI; jobs: ./d2v flink run --dir " + dir + " -- ...)");
            System.out.println(taskManagers + " TaskManager(s) of " + slots + " slots; logs in " + dir.resolve("log")
                    + "; Ctrl-C to stop");
            System.out.flush();
            CountDownLatch done = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                cluster.close();
                done.countDown();
            }, "d2v-flink-stop"));
            int exit = cluster.awaitJobManager();
            done.await();
            return exit == 0 ? 0 : 1;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Submits the preprocessing job jar (preprocess/flink/target/*-job.jar) to the cluster of --dir"
                    + " with Flink's CLI (CliFrontend run -d), detached; prints its job id.",
                    "The job's own arguments follow --: --modality image|audio|text|all --config FILE [--vocab FILE]"
                    + " [--parallelism N] [--bounded] [--batch-size N] [--checkpoint-interval-ms MS]"})
    static final class Run implements Callable<Integer> {
        @Option(names = "--dir", paramLabel = "DIR", description = "The cluster's folder (default: .d2v/flink-cluster)")
        Path dir = DEFAULT_DIR;

        @Option(names = "--jar", paramLabel = "FILE", description = "The job jar (default: the build's)")
        Path jar;

        @Parameters(paramLabel = "JOB_ARGS", description = "The job's arguments (after --)")
        List<String> jobArgs = new ArrayList<>();

        @Override
        public Integer call() throws IOException, InterruptedException {
            Path jobJar = jar != null ? jar : builtJobJar();
            System.out.print(LocalFlinkCluster.submit(dir, jobJar, "dev.d2v.preprocess.job.PreprocessJobMain", jobArgs));
            return 0;
        }

        private static Path builtJobJar() throws IOException {
            Path target = Path.of(System.getProperty("d2v.repo.root", ".")).resolve("preprocess/flink/target");
            try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
                return files.filter(p -> p.getFileName().toString().endsWith("-job.jar")).findFirst()
                        .orElseThrow(() -> new UserError("no job jar in " + target + ": `mvn -pl preprocess/flink -am"
                                + " package -DskipTests` makes it (./d2v builds it too)"));
            }
        }
    }
}
