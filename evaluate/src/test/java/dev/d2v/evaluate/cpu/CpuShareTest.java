package dev.d2v.evaluate.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU share's thread cap and duty-cycle arithmetic on fake clocks, then a real throttled workload. */
class CpuShareTest {
    private static final long MS = 1_000_000L;

    /** Busy and wall clocks the test moves by hand; sleeping advances the wall clock (and, optionally, busy time). */
    static final class Fake {
        long busy;
        long wall;
        long busyPerSleep;  // CPU other threads use while the evaluator sleeps (JIT, GC)
        long overslept;     // how much longer than asked every sleep lasts
        final List<Long> sleeps = new ArrayList<>();

        CpuShare share(double f, int cores) {
            return new CpuShare(f, cores, () -> busy, () -> wall, nanos -> {
                sleeps.add(nanos);
                wall += nanos + overslept;
                busy += busyPerSleep;
            });
        }

        void chunk(long busyMs, long wallMs) {
            busy += busyMs * MS;
            wall += wallMs * MS;
        }
    }

    @Test
    void threadsAreTheFloorOfTheShareAndAtLeastOne() {
        assertThat(CpuShare.threads(0.5, 2)).isEqualTo(1);
        assertThat(CpuShare.threads(0.25, 2)).isEqualTo(1);
        assertThat(CpuShare.threads(1.0, 2)).isEqualTo(2);
        assertThat(CpuShare.threads(0.75, 4)).isEqualTo(3);
        assertThat(CpuShare.threads(0.7, 10)).isEqualTo(7);   // 7.000000000000001
        assertThat(CpuShare.threads(0.29, 100)).isEqualTo(29); // 28.999999999999996
        assertThat(CpuShare.threads(0.01, 16)).isEqualTo(1);

        Fake f = new Fake();
        assertThat(f.share(0.25, 2).dutyCycled()).as("one thread is two shares of 0.25 on 2 cores").isTrue();
        assertThat(f.share(0.5, 2).dutyCycled()).isFalse();
        assertThat(f.share(0.6, 4).dutyCycled()).as("2 threads within 2.4 cores").isFalse();
        assertThat(f.share(0.25, 2).budget()).isEqualTo(0.5);
        assertThat(f.share(0.25, 2).describe()).isEqualTo("0.25 of 2 cores (1 thread, duty-cycled to 0.50 core)");
        assertThat(f.share(1.0, 4).describe()).isEqualTo("1 of 4 cores (4 threads)");

        assertThatThrownBy(() -> f.share(0, 2)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> f.share(1.01, 2)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> f.share(Double.NaN, 2)).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> f.share(0.5, 0)).hasMessageContaining("cores");
    }

    @Test
    void sleepsUntilBusyTimeIsWithinTheShareOfWallTime() {
        Fake f = new Fake();
        f.busyPerSleep = 2 * MS;
        CpuShare s = f.share(0.25, 2); // budget: 0.5 core

        // 30 ms of CPU in 40 ms of wall (the thread got 75% of a core): 30 / 0.5 = 60 ms owed in all, 20 ms more
        f.chunk(30, 40);
        assertThat(s.pause()).isEqualTo(20 * MS);
        assertThat(0.5 * f.wall).as("busy == budget * wall exactly after the pause").isEqualTo(30.0 * MS);
        // 2 ms used by other threads during that sleep + 10 ms of work in 10 ms: 12 / 0.5 - 10 = 14 ms
        f.chunk(10, 10);
        assertThat(s.pause()).isEqualTo(14 * MS);
        // 2 ms (during the sleep) + 5 ms of work over 50 ms of waiting on I/O: 14 ms is within 0.5 * 50, no sleep
        f.chunk(5, 50);
        assertThat(s.pause()).isZero();

        assertThat(f.sleeps).containsExactly(20 * MS, 14 * MS);
        assertThat(s.sleptSeconds()).isEqualTo(0.034);
        assertThat(s.pauses()).isEqualTo(3);
    }

    @Test
    void oversleepAndIdleTimeBeforeARestartAreNoCredit() {
        Fake f = new Fake();
        f.overslept = 5 * MS;
        CpuShare s = f.share(0.5, 1); // budget: half a core
        f.chunk(10, 10);
        assertThat(s.pause()).isEqualTo(10 * MS);       // slept 15 ms
        f.chunk(10, 10);
        assertThat(s.pause()).as("the 5 ms oversleep is not credit").isEqualTo(10 * MS);

        f.chunk(0, 10_000);                              // idle between two checkpoints
        s.restart();
        f.chunk(10, 10);
        assertThat(s.pause()).as("the idle 10 s before the restart is not credit").isEqualTo(10 * MS);
        f.chunk(0, 10_000);
        f.chunk(10, 10);
        assertThat(s.pause()).as("without a restart it is").isZero();
    }

    @Test
    void theWholeMachineNeverMeasuresNorSleeps() {
        CpuShare s = new CpuShare(1.0, 2, () -> {
            throw new AssertionError("busy clock read");
        }, () -> 0L, nanos -> {
            throw new AssertionError("slept");
        });
        assertThat(s.pause()).isZero();
        s.pacer().run();
        assertThat(s.threads()).isEqualTo(2);
    }

    @Test
    void owedSleepRoundsUp() {
        assertThat(CpuShare.owedSleep(30 * MS, 40 * MS, 0.5)).isEqualTo(20 * MS);
        assertThat(CpuShare.owedSleep(1, 0, 3.0)).isEqualTo(1);
        assertThat(CpuShare.owedSleep(10 * MS, 100 * MS, 0.5)).isZero();
        assertThat(CpuShare.owedSleep(3 * MS, 1 * MS, 1.5)).isEqualTo(1 * MS);
    }

    @Test
    void anInterruptEndsThePauseAndStaysSet() {
        long[] wall = {0};
        long[] busy = {0};
        CpuShare s = new CpuShare(0.5, 1, () -> busy[0], () -> wall[0], nanos -> {
            throw new InterruptedException("stop");
        });
        busy[0] = 10 * MS;
        wall[0] = 10 * MS;
        s.pause();
        assertThat(Thread.interrupted()).isTrue(); // and cleared for the next test
    }

    /**
     * A real single-threaded workload, throttled to 0.05 of 2 cores (a tenth of a core): 80 chunks of 3 ms of CPU
     * time, a pause after each. The process's CPU time over the wall time, measured here from before the first chunk
     * to after the last pause, stays within the share: 10% tolerance plus 20 ms, two ticks of the JVM's process CPU
     * clock (times(2), 10 ms on Linux; its rounding does not accumulate, each reading is within a tick). An
     * unthrottled loop would show ~1 on an idle core.
     */
    @Test
    void aThrottledWorkloadKeepsToTheShare() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        CpuShare s = CpuShare.of(0.05, 2);
        assertThat(s.budget()).isEqualTo(0.1);
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        long thread0 = threads.getCurrentThreadCpuTime();
        double sink = 0;
        s.restart();
        for (int chunk = 0; chunk < 80; chunk++) {
            long until = threads.getCurrentThreadCpuTime() + 3 * MS;
            while (threads.getCurrentThreadCpuTime() < until) {
                sink += Math.sqrt(sink + chunk);
            }
            s.pause();
        }
        double wall = (System.nanoTime() - wall0) / 1e9;
        double busy = (os.getProcessCpuTime() - cpu0) / 1e9;
        double worked = (threads.getCurrentThreadCpuTime() - thread0) / 1e9;
        System.out.printf("throttled workload: %.3f s of CPU (%.3f s in the worker) over %.3f s of wall, ratio %.3f, "
                + "slept %.3f s, sink %s%n", busy, worked, wall, busy / wall, s.sleptSeconds(), sink > 0);
        assertThat(worked).isGreaterThanOrEqualTo(0.24);
        assertThat(busy).isLessThanOrEqualTo(0.1 * wall * 1.1 + 0.02);
        assertThat(s.sleptSeconds()).as("the pauses did the capping").isPositive();
    }
}
