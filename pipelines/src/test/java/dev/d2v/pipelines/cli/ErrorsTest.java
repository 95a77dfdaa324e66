package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ErrorsTest {

    @Test
    void aWrappedFailureNamesItsRootCause() {
        // the shape of a Flink job's failure: only the innermost exception says what went wrong
        Exception flink = new RuntimeException("Job execution failed.",
                new IllegalStateException("Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy",
                        new IllegalArgumentException("sample id 3 is longer than 65535 UTF-8 bytes")));
        assertThat(Errors.message(flink)).isEqualTo("Job execution failed. (root cause: java.lang.IllegalArgumentException:"
                + " sample id 3 is longer than 65535 UTF-8 bytes)");
    }

    @Test
    void aMessageThatAlreadySaysItAllIsLeftAlone() {
        assertThat(Errors.message(new IllegalArgumentException("no such file"))).isEqualTo("no such file");
        Exception repeated = new RuntimeException("cannot read x: gone", new IOException("gone"));
        assertThat(Errors.message(repeated)).isEqualTo("cannot read x: gone");
        Exception silent = new RuntimeException(null, new IOException("disk full"));
        assertThat(Errors.message(silent)).isEqualTo("disk full");
    }
}
