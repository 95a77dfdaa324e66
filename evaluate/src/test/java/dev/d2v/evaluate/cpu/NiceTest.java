package dev.d2v.evaluate.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** renice on every thread of a child process (not this JVM: the other tests would run at its priority). */
class NiceTest {

    @Test
    void lowersEveryThreadAndNeverRaisesPriority() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
        assumeTrue(onPath("renice") && onPath("sleep"), "needs renice and sleep");
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            long pid = child.pid();
            assumeTrue(niceOf(pid).stream().allMatch(n -> n < 7), "this JVM already runs at nice 7 or more");

            assertThat(Nice.lower(pid, 7)).startsWith("nice: 7 for 1 of the 1 thread(s) of process " + pid);
            assertThat(niceOf(pid)).containsOnly(7);

            assertThat(Nice.lower(pid, 3)).contains("already run at nice 3 or lower priority");
            assertThat(niceOf(pid)).as("not raised back").containsOnly(7);
        } finally {
            child.destroy();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(Nice.lower(Long.MAX_VALUE, 5)).startsWith("nice: skipped, no /proc/");
        assertThatThrownBy(() -> Nice.lower(1, 0)).hasMessageContaining("1..19");
        assertThatThrownBy(() -> Nice.lower(1, 20)).hasMessageContaining("1..19");
    }

    @Test
    void readsTheNiceFieldPastACommandNameWithSpacesAndParentheses() throws Exception {
        Path stat = Files.createTempFile("stat", "");
        try {
            Files.writeString(stat, "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 13 1 0 99 "
                    + "1000 10 18446744073709551615 0 0 0\n");
            assertThat(Nice.nice(stat)).hasValue(13);
            Files.writeString(stat, "garbage");
            assertThat(Nice.nice(stat)).isEmpty();
        } finally {
            Files.delete(stat);
        }
        assertThat(Nice.nice(Path.of("/nonexistent/stat"))).isEqualTo(OptionalInt.empty());
    }

    private static List<Integer> niceOf(long pid) throws Exception {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.map(t -> Nice.nice(t.resolve("stat")).orElseThrow()).toList();
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }
}
