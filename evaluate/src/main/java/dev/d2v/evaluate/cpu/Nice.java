package dev.d2v.evaluate.cpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Lowers a process's scheduling priority (raises its nice value) with renice(1), so that the trainer wins when both
 * want a core. Linux keeps a nice value per thread (setpriority on a pid changes only the thread whose id it is;
 * for a JVM that is the launcher thread, which sits idle), so every thread listed in /proc/PID/task is reniced;
 * threads started later inherit their creator's value, so calling this before the engine and the Kafka clients
 * start covers them. Never raises a priority (an unprivileged user cannot, and a thread already nicer stays so).
 * Where /proc or renice is missing, nothing happens and the returned line says why.
 */
public final class Nice {

    private Nice() {
    }

    /**
     * Sets nice to n (1..19) on every thread of process pid whose nice is below n.
     *
     * @return one line saying what was done or why nothing was
     */
    public static String lower(long pid, int n) {
        if (n < 1 || n > 19) {
            throw new IllegalArgumentException("nice must be in 1..19, got " + n);
        }
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        if (!Files.isDirectory(tasks)) {
            return "nice: skipped, no " + tasks + " (not Linux, or no such process)";
        }
        List<String> below = new ArrayList<>();
        int threads = 0;
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path t : list.toList()) {
                OptionalInt current = nice(t.resolve("stat"));
                if (current.isPresent()) {
                    threads++;
                    if (current.getAsInt() < n) {
                        below.add(t.getFileName().toString());
                    }
                }
            }
        } catch (IOException e) {
            return "nice: skipped, cannot list " + tasks + ": " + e.getMessage();
        }
        if (below.isEmpty()) {
            return "nice: the " + threads + " thread(s) of process " + pid + " already run at nice " + n + " or lower priority";
        }
        List<String> cmd = new ArrayList<>(List.of("renice", Integer.toString(n), "-p")); // positional = absolute
        cmd.addAll(below);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            int code = p.waitFor();
            if (code != 0) {
                return "nice: skipped, renice exited with " + code + (out.isEmpty() ? "" : ": " + firstLine(out));
            }
        } catch (IOException e) {
            return "nice: skipped, renice is not available (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "nice: skipped, interrupted";
        }
        return "nice: " + n + " for " + below.size() + " of the " + threads + " thread(s) of process " + pid;
    }

    /** The nice value of a thread (field 19 of /proc/PID/task/TID/stat); empty when the thread is gone. */
    static OptionalInt nice(Path stat) {
        try {
            String s = Files.readString(stat, StandardCharsets.US_ASCII);
            // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
            String[] fields = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
            return OptionalInt.of(Integer.parseInt(fields[19 - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
