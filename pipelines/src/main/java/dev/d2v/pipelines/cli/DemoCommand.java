package dev.d2v.pipelines.cli;

import dev.d2v.pipelines.demo.Demo;
import dev.d2v.pipelines.demo.DemoSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v demo`: the settings from config/demo.yaml and the options, then {@link Demo} (every stage end to end). */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs everything end to end: local broker, sample data, ingest, preprocessing (Flink MiniCluster),",
                "the continuous trainer on CPU for --minutes, evaluation of the final checkpoint against random init and raw features;",
                "ends with the HTML report and a summary table. Ctrl-C stops cleanly; a second run resumes.",
                "Defaults: config/demo.yaml."})
public final class DemoCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions cfg;

    @Option(names = "--config-demo", paramLabel = "FILE", description = "Demo settings (default: config/demo.yaml)")
    Path demoConfig;

    @Option(names = "--minutes", paramLabel = "M", description = "Training budget in minutes (default: trainMinutes in the demo settings)")
    Double minutes;

    @Override
    public Integer call() throws Exception {
        Demo demo = new Demo(cfg.load(), loadDemo().withTrainMinutes(minutes), System.out, System.err);
        AtomicBoolean stopping = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopping.set(true);
            System.err.println("\nd2v demo: stopping (the running stage finishes cleanly; run ./d2v demo again to resume)");
            try {
                done.await(120, TimeUnit.SECONDS); // the broker stays up until the trainer's checkpoint is announced
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return demo.run(stopping::get);
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook waited for this
            }
        }
    }

    private DemoSettings loadDemo() {
        Path file = demoConfig;
        if (file == null) {
            Path candidate = ConfigOptions.shipped("demo.yaml");
            file = Files.isRegularFile(candidate) ? candidate : null;
        }
        return file == null ? DemoSettings.defaults() : DemoSettings.load(file);
    }
}
