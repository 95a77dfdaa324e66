package dev.d2v.ingest.data;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** File and process helpers shared by the dataset importers. */
final class DataFiles {
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private DataFiles() {
    }

    /**
     * Makes {@code root} an empty folder: a folder without a manifest is an interrupted fetch, so whatever it
     * holds is removed rather than trusted. Call only after checking that no manifest is there.
     */
    static void prepareEmpty(Path root) throws IOException {
        if (Files.exists(root)) {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(root);
    }

    /** Writes one JSON object per line, UTF-8, "\n" line ends; field order is the map's iteration order. */
    static void writeJsonl(Path file, List<? extends Map<String, ?>> rows) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Map<String, ?> row : rows) {
                w.write(JSON.writeValueAsString(row));
                w.write('\n');
            }
        }
    }

    /** A JSON row from key/value pairs, in the order given: row("text", t, "label", l). */
    static Map<String, String> row(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Rows capped at {@code limit} (0 = all): the first N in source order, so subsets nest. */
    static <T> List<T> cap(List<T> rows, int limit) {
        return limit == 0 || rows.size() <= limit ? rows : rows.subList(0, limit);
    }

    static String now() {
        return Instant.now().toString();
    }

    /** Result of a child process: exit code and its merged stdout/stderr. */
    record ProcessResult(int exitCode, String output) {
    }

    /**
     * Runs a command to completion; returns null when the program is not installed (so callers can say how to
     * install it). Output is merged stdout/stderr.
     */
    static ProcessResult run(List<String> command, Path workDir, long timeoutSeconds) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return null; // "Cannot run program": not on PATH
        }
        Path log = Files.createTempFile("d2v-proc", ".log");
        try {
            // drain output on another thread so a chatty child never blocks on a full pipe
            Thread drain = new Thread(() -> {
                try {
                    Files.copy(p.getInputStream(), log, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "proc-drain");
            drain.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
            }
            drain.join(10_000);
            return new ProcessResult(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** First line of a tool's version output, or "unavailable". */
    static String toolVersion(String... command) {
        try {
            ProcessResult r = run(List.of(command), null, 30);
            if (r == null || r.exitCode() != 0 || r.output().isBlank()) {
                return "unavailable";
            }
            return r.output().strip().lines().findFirst().orElse("unavailable");
        } catch (IOException e) {
            return "unavailable";
        }
    }

    /** Installed version of a Debian package per dpkg-query, or "unknown" (not a Debian system, or not installed). */
    static String debianVersion(String pkg) {
        String v = toolVersion("dpkg-query", "-W", "-f=${Version}", pkg);
        return v.equals("unavailable") ? "unknown" : v;
    }
}
