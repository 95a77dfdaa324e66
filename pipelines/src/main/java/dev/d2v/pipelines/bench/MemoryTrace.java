package dev.d2v.pipelines.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resident memory of named processes sampled over a long run, and whether it grows: per name the peak and the
 * least-squares slope in MB per hour over the samples of its current process (a process started again, as the
 * soak's trainer is after a kill, starts a new series: its memory begins again from nothing).
 */
final class MemoryTrace {

    /** One sample: minutes since the trace began, resident MB. */
    record Point(double minutes, double mb) {
    }

    /** A process's series: its pid and samples, with the peak over every process of that name. */
    private static final class Series {
        long pid = -1;
        final List<Point> points = new ArrayList<>();
        double peakMb = -1;
    }

    private final Map<String, Series> series = new LinkedHashMap<>();

    /** Adds a sample of process {@code name} (pid {@code pid}); a negative MB (no /proc) is ignored. */
    void add(String name, long pid, double minutes, double mb) {
        if (mb < 0) {
            return;
        }
        Series s = series.computeIfAbsent(name, k -> new Series());
        if (s.pid != pid) {
            s.pid = pid;
            s.points.clear();
        }
        s.points.add(new Point(minutes, mb));
        s.peakMb = Math.max(s.peakMb, mb);
    }

    /** The names traced, in the order first seen. */
    List<String> names() {
        return List.copyOf(series.keySet());
    }

    /** The largest sample of any process of this name. */
    double peakMb(String name) {
        return series.get(name).peakMb;
    }

    /** Minutes covered by the current process's samples. */
    double minutes(String name) {
        List<Point> p = series.get(name).points;
        return p.isEmpty() ? 0 : p.get(p.size() - 1).minutes() - p.get(0).minutes();
    }

    /** Least-squares slope of the current process's samples in MB per hour; NaN with fewer than 3 samples. */
    double slopeMbPerHour(String name) {
        return slopePerHour(series.get(name).points);
    }

    static double slopePerHour(List<Point> points) {
        int n = points.size();
        if (n < 3) {
            return Double.NaN;
        }
        double mx = points.stream().mapToDouble(Point::minutes).average().orElse(0);
        double my = points.stream().mapToDouble(Point::mb).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        for (Point p : points) {
            sxy += (p.minutes() - mx) * (p.mb() - my);
            sxx += (p.minutes() - mx) * (p.minutes() - mx);
        }
        return sxx == 0 ? Double.NaN : 60 * sxy / sxx;
    }
}
