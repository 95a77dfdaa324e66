package dev.d2v.pipelines;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A `./d2v` command line in a child JVM: the same java binary, class path and JVM options as this process, the same
 * environment. For a stage that must not share this process: the demo's evaluator follows the trainer's checkpoints
 * as a process of its own, so that its scheduling priority (`--nice`) and its CPU share (`--cpu-share`, measured as
 * process CPU time) are its own and not the trainer's, and its PyTorch thread count does not change the trainer's
 * (libtorch's is per process).
 *
 * <p>Every line the child prints goes to a log file and, prefixed, to {@code echo}. Ctrl-C in a terminal reaches the
 * child too (same process group): its own shutdown hook stops it cleanly. {@link #stop} sends SIGTERM, which does the
 * same, and kills it only after the grace period.
 */
public final class ChildProcess implements AutoCloseable {

    private final Process process;
    private final Thread pump;

    private ChildProcess(Process process, Thread pump) {
        this.process = process;
        this.pump = pump;
    }

    /**
     * Starts {@code ./d2v args...}.
     *
     * @param log    every output line of the child, stdout and stderr together
     * @param echo   where the lines are also printed, each behind prefix (null: log file only)
     * @param prefix e.g. "[evaluator] "
     */
    public static ChildProcess start(List<String> args, Path log, PrintStream echo, String prefix) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        for (String jvmArg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // debugger and agent options of this JVM (an IDE, surefire's jacoco) must not be copied: a second JVM
            // would fail to bind the same port or write the same coverage file
            if (!jvmArg.startsWith("-agentlib") && !jvmArg.startsWith("-javaagent") && !jvmArg.startsWith("-Xrunjdwp")) {
                cmd.add(jvmArg);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        Files.createDirectories(log.toAbsolutePath().getParent());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        Thread pump = new Thread(() -> copy(p, log, echo, prefix), "child-output-" + p.pid());
        pump.setDaemon(true);
        pump.start();
        return new ChildProcess(p, pump);
    }

    private static void copy(Process p, Path log, PrintStream echo, String prefix) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                if (echo != null && !line.isBlank()) {
                    echo.println(prefix + line.strip());
                }
            }
        } catch (IOException e) {
            if (echo != null) {
                echo.println(prefix + "(output lost: " + e.getMessage() + ")");
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, as a crash: no shutdown hook runs. Waits for the end. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        pump.join(5_000);
    }

    /** The exit code once it ended, waiting at most {@code wait}; null when it is still running. */
    public Integer waitFor(Duration wait) throws InterruptedException {
        if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            return null;
        }
        pump.join(5_000);
        return process.exitValue();
    }

    /**
     * SIGTERM (the child's shutdown hook stops it cleanly), then up to {@code grace} for it to end, then SIGKILL.
     *
     * @return the exit code (143 after SIGTERM for a JVM that did not exit by itself)
     */
    public int stop(Duration grace) throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
        }
        Integer code = waitFor(grace);
        if (code == null) {
            process.destroyForcibly();
            code = waitFor(Duration.ofSeconds(30));
        }
        return code == null ? -1 : code;
    }

    @Override
    public void close() throws InterruptedException {
        stop(Duration.ofSeconds(60));
    }
}
