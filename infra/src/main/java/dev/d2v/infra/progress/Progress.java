package dev.d2v.infra.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A live one-line progress display for long work: count, total, rate, elapsed, ETA and a caller's suffix.
 * On a terminal the line redraws in place; otherwise (CI logs, pipes) it prints a full line at most every
 * 5 s so that logs stay short. Thread-safe; updates are cheap (redraws are rate-limited).
 */
public final class Progress implements AutoCloseable {
    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean inPlace;
    private final LongSupplier clock;
    private final long startNs;
    private final long minRedrawNs;
    private long count;
    private long lastDrawNs;
    private String suffix = "";
    private boolean closed;

    public Progress(String label, long total) {
        this(label, total, System.err, System.console() != null, System::nanoTime);
    }

    Progress(String label, long total, PrintStream out, boolean inPlace, LongSupplier clock) {
        this.label = label;
        this.total = total;
        this.out = out;
        this.inPlace = inPlace;
        this.clock = clock;
        this.startNs = clock.getAsLong();
        this.minRedrawNs = inPlace ? 200_000_000L : 5_000_000_000L;
        this.lastDrawNs = startNs;
    }

    public synchronized void step(long n) {
        count += n;
        maybeDraw();
    }

    public synchronized void set(long value, String newSuffix) {
        count = value;
        suffix = newSuffix == null ? "" : newSuffix;
        maybeDraw();
    }

    public synchronized void suffix(String newSuffix) {
        suffix = newSuffix == null ? "" : newSuffix;
    }

    public synchronized long count() {
        return count;
    }

    /** Records per second since the start. */
    public synchronized double rate() {
        double s = (clock.getAsLong() - startNs) / 1e9;
        return s <= 0 ? 0 : count / s;
    }

    public synchronized double elapsedSeconds() {
        return (clock.getAsLong() - startNs) / 1e9;
    }

    private void maybeDraw() {
        long now = clock.getAsLong();
        if (now - lastDrawNs >= minRedrawNs) {
            lastDrawNs = now;
            draw(false);
        }
    }

    synchronized String line() {
        double elapsed = (clock.getAsLong() - startNs) / 1e9;
        double rate = elapsed <= 0 ? 0 : count / elapsed;
        StringBuilder b = new StringBuilder(label).append(' ');
        if (total > 0) {
            int width = 24;
            int filled = (int) Math.min(width, width * count / Math.max(1, total));
            b.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
            b.append(count).append('/').append(total);
            b.append(String.format(Locale.ROOT, " %3.0f%%", 100.0 * count / Math.max(1, total)));
        } else {
            b.append(count);
        }
        b.append(String.format(Locale.ROOT, "  %.1f/s  %s", rate, formatDuration(elapsed)));
        if (total > 0 && rate > 0 && count < total) {
            b.append("  eta ").append(formatDuration((total - count) / rate));
        }
        if (!suffix.isEmpty()) {
            b.append("  ").append(suffix);
        }
        return b.toString();
    }

    private void draw(boolean last) {
        if (inPlace) {
            out.print("\r\033[K" + line() + (last ? "\n" : ""));
        } else {
            out.println(line());
        }
        out.flush();
    }

    static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Draws the final state on its own line. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            draw(true);
        }
    }
}
