package dev.d2v.pipelines.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryTraceTest {

    @Test
    void theSlopeIsMegabytesPerHourOverTheCurrentProcessAndThePeakSpansRestarts() {
        MemoryTrace t = new MemoryTrace();
        for (int i = 0; i <= 10; i++) {           // evaluator: flat but noisy
            t.add("evaluator", 7, i, 500 + (i % 2 == 0 ? 3 : -3));
        }
        for (int i = 0; i <= 4; i++) {            // trainer, first process: grows 2 MB a minute, then is killed
            t.add("trainer", 11, i, 600 + 2 * i);
        }
        for (int i = 5; i <= 10; i++) {           // started again: lower, growing 0.5 MB a minute
            t.add("trainer", 12, i, 400 + 0.5 * (i - 5));
        }
        assertThat(t.names()).containsExactly("evaluator", "trainer");
        assertThat(t.slopeMbPerHour("evaluator")).isCloseTo(0, within(3.0));
        assertThat(t.slopeMbPerHour("trainer")).isCloseTo(30, within(1e-9));   // the second process only
        assertThat(t.peakMb("trainer")).isEqualTo(608);                         // the first process's peak
        assertThat(t.minutes("trainer")).isEqualTo(5);
        t.add("broker", 3, 0, 300);
        t.add("broker", 3, 1, 310);
        assertThat(t.slopeMbPerHour("broker")).isNaN();                         // too few samples to say
        t.add("broker", 3, 2, -1);                                               // no /proc: ignored
        assertThat(t.minutes("broker")).isEqualTo(1);
    }

    @Test
    void theLateSlopeReadsOnlyTheSecondHalfSoAWarmUpThatSettlesShowsFlat() throws Exception {
        MemoryTrace t = new MemoryTrace();
        for (int i = 0; i <= 20; i++) {           // grows 10 MB a minute for 10 minutes, then flat
            t.add("trainer", 5, i, 500 + 10 * Math.min(i, 10));
        }
        assertThat(t.slopeMbPerHour("trainer")).isGreaterThan(200);
        assertThat(t.lateSlopeMbPerHour("trainer")).isCloseTo(0, within(1e-9));
        t.add("trainer", 6, 21, 400);                                            // a new process: one sample
        assertThat(t.lateSlopeMbPerHour("trainer")).isNaN();
        Path file = Files.createTempFile("trace", ".csv");
        t.writeCsv(file);
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(23).startsWith("minutes,process,pid,rss_mb");
        assertThat(lines.get(22)).isEqualTo("21.000,trainer,6,400.0");          // every sample, the old process's too
        String svg = t.svg("soak");
        assertThat(svg).startsWith("<svg").contains("trainer", "trainer (pid 6)", "resident MB");
    }
}
