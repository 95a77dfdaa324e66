package dev.d2v.infra.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void lineShowsCountTotalRateAndEta() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress("ingest", 200, new PrintStream(buf, true, StandardCharsets.UTF_8), false, now::get);
        now.set(2_000_000_000L); // 2 s
        p.step(50);
        String line = p.line();
        assertThat(line).contains("50/200").contains(" 25%").contains("25.0/s").contains("eta 0:06");
    }

    @Test
    void plainOutputIsRateLimitedButCloseAlwaysPrints() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress("x", 0, new PrintStream(buf, true, StandardCharsets.UTF_8), false, now::get);
        for (int i = 0; i < 1000; i++) {
            now.addAndGet(1_000_000L); // 1 ms per step: 1 s in all, below the 5 s plain interval
            p.step(1);
        }
        assertThat(buf.toString(StandardCharsets.UTF_8)).isEmpty();
        p.close();
        assertThat(buf.toString(StandardCharsets.UTF_8).lines()).hasSize(1).first().asString().contains("x 1000");
    }

    @Test
    void formatsDurations() {
        assertThat(Progress.formatDuration(59.4)).isEqualTo("0:59");
        assertThat(Progress.formatDuration(3725)).isEqualTo("1:02:05");
    }
}
