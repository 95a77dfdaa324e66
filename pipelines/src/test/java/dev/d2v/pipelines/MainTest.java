package dev.d2v.pipelines;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : new String[][] {{"--help"}, {"kafka", "--help"}, {"kafka", "start", "--help"},
                {"kafka", "topics", "--help"}, {"data", "fetch", "--help"}, {"data", "list", "--help"}, {"ingest", "--help"}}) {
            CliRun r = run(args);
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
        CliRun r = run("data", "list", "--config", cfg.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("partitionz");
        CliRun missing = run("data", "list", "--config", dir.resolve("none.yaml").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("configuration file not found");
    }

    @Test
    void unknownDatasetNamesTheKnownOnes() {
        CliRun r = run("data", "fetch", "imagenet", "--cache-dir", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown dataset").contains("mnist");
    }
}
