package dev.d2v.evaluate.cpu;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The evaluator's cap on the machine: a share F of its cores (0 &lt; F &lt;= 1), so that it never slows the trainer
 * beyond that share. Enforced two ways:
 * <ul>
 *   <li><b>threads</b>: every pool the evaluator sizes (PyTorch intra-op threads, the linear probe's and the k-NN's
 *       pools) gets at most {@link #threads()} = max(1, floor(F * cores));</li>
 *   <li><b>duty cycle</b>: the work runs in chunks (a feature-extraction batch, an L-BFGS iteration, a block of k-NN
 *       queries, a fine-tuning update) and {@link #pause()} after each one sleeps until the busy CPU time since the
 *       previous pause is at most F * cores times the wall time since then, sleep included. This is what binds when
 *       even one thread is more than the share (F * cores &lt; 1, e.g. 0.25 of 2 cores: half a core, so one thread
 *       works half of the time and sleeps the other half); with floor(F * cores) threads it binds only for what runs
 *       beside them (JIT compiler, GC).</li>
 * </ul>
 * Busy time is the process's CPU time by default (every thread, PyTorch's native ones included): the quantity the
 * trainer competes with. The accounting runs from {@link #restart()} (called at the start of each evaluation, so
 * idle time between checkpoints is no credit) and telescopes: after each pause, the busy time since the restart is
 * at most F * cores * the wall time since it. Known limit: the cap holds per chunk, so a chunk of seconds runs at
 * full speed for those seconds and is paid back by a sleep after it.
 */
public final class CpuShare {

    /** A monotonic nanosecond counter: wall time, or CPU time used. */
    @FunctionalInterface
    public interface NanoClock {
        long nanos();
    }

    /** Waits; tests pass one that advances a fake wall clock instead. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    private final double share;
    private final int cores;
    private final NanoClock busy;
    private final NanoClock wall;
    private final Sleeper sleeper;
    private long markBusy;
    private long markWall;
    private long sleptNanos;
    private long pauses;

    /**
     * @param share   F in (0, 1]: the fraction of the machine's cores the evaluator may keep busy
     * @param cores   the machine's cores
     * @param busy    CPU time used so far (all the evaluator's threads together)
     * @param wall    wall time
     * @param sleeper how to wait
     */
    public CpuShare(double share, int cores, NanoClock busy, NanoClock wall, Sleeper sleeper) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("the CPU share must be in (0, 1], got " + share);
        }
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, got " + cores);
        }
        this.share = share;
        this.cores = cores;
        this.busy = busy;
        this.wall = wall;
        this.sleeper = sleeper;
        restart();
    }

    /** F of this machine's cores, busy time = the process's CPU time. */
    public static CpuShare of(double share) {
        return of(share, Runtime.getRuntime().availableProcessors());
    }

    /** F of the given number of cores, busy time = the process's CPU time, real sleeps. */
    public static CpuShare of(double share, int cores) {
        return new CpuShare(share, cores, processCpuClock(cores), System::nanoTime, CpuShare::sleepNanos);
    }

    /** The whole machine: as many threads as cores, no pauses. */
    public static CpuShare whole() {
        return of(1.0);
    }

    public double share() {
        return share;
    }

    public int cores() {
        return cores;
    }

    /** F * cores: the thread-seconds of CPU the evaluator may use per second of wall time. */
    public double budget() {
        return share * cores;
    }

    /** max(1, floor(F * cores)): the most threads any of the evaluator's pools may have. */
    public int threads() {
        return threads(share, cores);
    }

    /** max(1, floor(F * cores)); 1e-9 absorbs binary rounding (0.7 * 10 = 7.000000000000001, 0.29 * 100 = 28.999...). */
    public static int threads(double share, int cores) {
        return Math.max(1, (int) Math.floor(share * cores + 1e-9));
    }

    /** Whether the threads alone exceed the share, so that the duty cycle must do the capping. */
    public boolean dutyCycled() {
        return budget() < threads();
    }

    /** Starts the accounting afresh: what ran or idled before is neither debt nor credit. */
    public synchronized void restart() {
        if (share >= 1) {
            return; // nothing is measured for the whole machine
        }
        markBusy = busy.nanos();
        markWall = wall.nanos();
    }

    /**
     * Call after each chunk of work: sleeps as long as needed for busy &lt;= F * cores * wall since the previous pause
     * (or restart). An interrupt ends the sleep early and stays set for the caller to see. With F = 1 nothing is
     * measured: the whole machine needs no pause.
     *
     * @return nanoseconds asked to sleep
     */
    public synchronized long pause() {
        if (share >= 1) {
            return 0;
        }
        long b = busy.nanos();
        long w = wall.nanos();
        long owed = owedSleep(b - markBusy, w - markWall, budget());
        if (owed > 0) {
            try {
                sleeper.sleep(owed);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sleptNanos += owed;
        }
        pauses++;
        // busy time during the sleep (JIT, GC, heartbeats) is counted in the next interval; the wall mark is the
        // actual end of the sleep, so an oversleep is not credit
        markBusy = b;
        markWall = wall.nanos();
        return owed;
    }

    /**
     * The sleep that brings an interval of busyNanos CPU time over wallNanos wall time to the budget:
     * max(0, ceil(busy / budget) - wall) nanoseconds.
     */
    public static long owedSleep(long busyNanos, long wallNanos, double budget) {
        return Math.max(0, (long) Math.ceil(busyNanos / budget) - wallNanos);
    }

    /** A {@link #pause()} as a Runnable, for the work loops' per-chunk hooks. */
    public Runnable pacer() {
        return share >= 1 ? () -> { } : this::pause;
    }

    /** Seconds slept in pauses so far. */
    public synchronized double sleptSeconds() {
        return sleptNanos / 1e9;
    }

    /** Pauses so far. */
    public synchronized long pauses() {
        return pauses;
    }

    /** "0.25 of 2 cores (1 thread, duty-cycled to 0.50 core)" and the like, for log lines. */
    public String describe() {
        return String.format(Locale.ROOT, "%s of %d core%s (%d thread%s%s)", trim(share), cores,
                cores == 1 ? "" : "s", threads(), threads() == 1 ? "" : "s",
                dutyCycled() ? String.format(Locale.ROOT, ", duty-cycled to %.2f core", budget()) : "");
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * The process's CPU time (com.sun.management; on Linux the JVM reads it with times(2), in 10 ms ticks: each
     * reading is within a tick, and as every interval starts at the previous reading the error does not add up); where the JVM does not give it, an upper bound: wall time times
     * the cores (every thread always busy), which makes the duty cycle pessimistic but never lax.
     */
    static NanoClock processCpuClock(int cores) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                && os.getProcessCpuTime() >= 0) {
            return os::getProcessCpuTime;
        }
        return () -> System.nanoTime() * cores;
    }

    private static void sleepNanos(long nanos) throws InterruptedException {
        Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    }
}
