package dev.d2v.pipelines;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : new String[][] {{"--help"}, {"kafka", "--help"}, {"kafka", "start", "--help"},
                {"kafka", "topics", "--help"}, {"data", "fetch", "--help"}, {"data", "list", "--help"}, {"ingest", "--help"}}) {
            Result r = run(args);
            assertThat(r.code()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).contains("Usage:");
        }
        assertThat(run("kafka", "start", "--help").out()).contains("--port").contains("--data-dir").contains("--bootstrap");
        assertThat(run("ingest", "--help").out()).contains("--limit").contains("--rate").contains("--bootstrap");
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(run("ingest").code()).isEqualTo(2);
        assertThat(run("nope").code()).isEqualTo(2);
    }

    @Test
    void badConfigurationIsAnActionableErrorWithExitTwo() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "topics:\n  partitionz: 3\n");
        Result r = run("data", "list", "--config", cfg.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("partitionz");
        Result missing = run("data", "list", "--config", dir.resolve("none.yaml").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("configuration file not found");
    }

    @Test
    void unknownDatasetNamesTheKnownOnes() {
        Result r = run("data", "fetch", "imagenet", "--cache-dir", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown dataset").contains("mnist");
    }
}
