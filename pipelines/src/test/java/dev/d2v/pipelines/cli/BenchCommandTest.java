package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.pipelines.CliRun;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void benchIsAParentOfTrain() {
        CliRun parent = run("bench");
        assertThat(parent.code()).isZero();
        assertThat(parent.out()).contains("Usage:").contains("train");
        CliRun train = run("bench", "train", "--help");
        assertThat(train.code()).isZero();
        assertThat(train.out()).contains("--quick").contains("--preset").contains("--batch").contains("--rounds");
    }

    @Test
    void unknownPresetIsAUsageError() {
        CliRun r = run("bench", "train", "--preset", "huge");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown preset 'huge'");
    }
}
