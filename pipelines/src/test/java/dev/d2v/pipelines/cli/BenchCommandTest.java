package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.pipelines.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {

    private record Result(int code, String out, String err) {}

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
    void benchIsAParentOfTrain() {
        Result parent = run("bench");
        assertThat(parent.code()).isZero();
        assertThat(parent.out()).contains("Usage:").contains("train");
        Result train = run("bench", "train", "--help");
        assertThat(train.code()).isZero();
        assertThat(train.out()).contains("--quick").contains("--preset").contains("--batch").contains("--rounds");
    }

    @Test
    void unknownPresetIsAUsageError() {
        Result r = run("bench", "train", "--preset", "huge");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown preset 'huge'");
    }
}
