package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.train.run.Devices;
import dev.d2v.train.run.MatmulPrecision;
import java.io.PrintWriter;
import java.io.Writer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** --matmul-precision reaches libtorch when the run opens its device, and a later command without it starts at fp32. */
class DeviceOptionsTest {

    @Command(name = "probe")
    static final class Probe implements Runnable {
        @Mixin
        DeviceOptions devices;

        @Override
        public void run() {
        }
    }

    @AfterEach
    void restore() {
        Devices.configureMatmulPrecision(null);
        MatmulPrecision.HIGHEST.apply();
    }

    private static DeviceOptions parse(String... args) {
        Probe p = new Probe();
        new CommandLine(p).parseArgs(args);
        return p.devices;
    }

    @Test
    void theOptionSetsLibtorchsPrecisionAndItsAbsenceRestoresTheDefault() {
        parse("--matmul-precision", "medium", "--threads", "1").open();
        assertThat(MatmulPrecision.current()).isEqualTo(MatmulPrecision.MEDIUM);
        parse("--threads", "1").open();
        assertThat(MatmulPrecision.current()).isEqualTo(MatmulPrecision.HIGHEST);
    }

    @Test
    void anUnknownPrecisionIsAParameterError() {
        Probe p = new Probe();
        int code = new CommandLine(p).setErr(new PrintWriter(Writer.nullWriter()))
                .execute("--matmul-precision", "bf16");
        assertThat(code).isEqualTo(2);
    }
}
