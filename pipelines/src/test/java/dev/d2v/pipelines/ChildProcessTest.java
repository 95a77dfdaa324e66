package dev.d2v.pipelines;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.d2v.infra.kafka.SharedLocalKafka;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {

    @TempDir
    Path dir;

    @Test
    void runsTheCommandLineInAChildJvmAndLogsAndEchoesItsOutput() throws Exception {
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        Path log = dir.resolve("child.log");
        try (ChildProcess child = ChildProcess.start(List.of("kafka", "--help"), log,
                new PrintStream(echoed, true, StandardCharsets.UTF_8), "[child] ")) {
            assertThat(child.pid()).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(child.waitFor(Duration.ofSeconds(60))).isZero();
        }
        assertThat(Files.readString(log)).contains("Usage: d2v kafka");
        assertThat(echoed.toString(StandardCharsets.UTF_8)).contains("[child] Usage: d2v kafka");
    }

    @Test
    void stopEndsALongRunningCommandThroughItsShutdownHook() throws Exception {
        Path log = dir.resolve("follow.log");
        // a follower of a topic that gets no events: it waits for them until stopped
        ChildProcess child = ChildProcess.start(List.of("evaluate", "--follow", "--bootstrap",
                SharedLocalKafka.bootstrap(), "--group", "child-" + System.nanoTime(), "--out",
                dir.resolve("eval").toString(), "--nice", "0"), log, null, "");
        // in its polling loop (its shutdown hook registered) before the signal
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!(Files.exists(log) && Files.readString(log).contains("following ")) && System.nanoTime() < deadline) {
            assertThat(child.waitFor(Duration.ofMillis(200))).as("still running").isNull();
        }
        assertThat(Files.readString(log)).contains("following ");
        long t0 = System.nanoTime();
        int code = child.stop(Duration.ofSeconds(60));
        assertThat(child.isAlive()).isFalse();
        assertThat(code).as("SIGTERM, not SIGKILL (137); log:%n%s", Files.readString(log)).isIn(0, 143);
        // the hook waits for the loop, which checks between polls of a second: not for its whole 60 s
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
    }
}
