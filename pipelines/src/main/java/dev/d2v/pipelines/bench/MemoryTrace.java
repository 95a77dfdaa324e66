package dev.d2v.pipelines.bench;

import dev.d2v.evaluate.report.SvgPlot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Resident memory of named processes sampled over a long run, and whether it grows: per name the peak and the
 * least-squares slope in MB per hour over the samples of its current process (a process started again, as the
 * soak's trainer is after a kill, starts a new series: its memory begins again from nothing), also over the second half
 * of those samples alone (whether the growth is settling: warm-up is in the first half), and every sample as CSV and
 * as a line chart.
 */
final class MemoryTrace {

    /** One sample: minutes since the trace began, resident MB. */
    record Point(double minutes, double mb) {
    }

    /** Every sample taken, in order: the one record the figures below are read from. */
    private record Sample(String name, long pid, double minutes, double mb) {
    }

    private final List<Sample> samples = new ArrayList<>();

    /** Adds a sample of process {@code name} (pid {@code pid}); a negative MB (no /proc) is ignored. */
    void add(String name, long pid, double minutes, double mb) {
        if (mb < 0) {
            return;
        }
        samples.add(new Sample(name, pid, minutes, mb));
    }

    /** The samples of this name's current process: the last ones in a row with its newest pid. */
    private List<Point> current(String name) {
        List<Sample> own = samples.stream().filter(x -> x.name().equals(name)).toList();
        int from = own.size();
        while (from > 0 && own.get(from - 1).pid() == own.get(own.size() - 1).pid()) {
            from--;
        }
        return own.subList(from, own.size()).stream().map(x -> new Point(x.minutes(), x.mb())).toList();
    }

    /** Every sample taken, one CSV line each: minutes, process, pid, rss_mb. */
    void writeCsv(Path file) throws IOException {
        StringBuilder csv = new StringBuilder("minutes,process,pid,rss_mb\n");
        for (Sample x : samples) {
            csv.append(String.format(Locale.ROOT, "%.3f,%s,%d,%.1f%n", x.minutes(), x.name(), x.pid(), x.mb()));
        }
        Files.writeString(file, csv);
    }

    /** Resident MB against minutes, one line per process (a process started again is a line of its own). */
    String svg(String title) {
        Map<String, List<SvgPlot.Point>> lines = new LinkedHashMap<>();
        Map<String, Long> firstPid = new LinkedHashMap<>();
        for (Sample x : samples) {
            long first = firstPid.computeIfAbsent(x.name(), k -> x.pid());
            String line = first == x.pid() ? x.name() : x.name() + " (pid " + x.pid() + ")";
            lines.computeIfAbsent(line, k -> new ArrayList<>()).add(new SvgPlot.Point(x.minutes(), x.mb()));
        }
        List<SvgPlot.Series> series = new ArrayList<>();
        int colour = 0;
        for (Map.Entry<String, List<SvgPlot.Point>> e : lines.entrySet()) {
            series.add(new SvgPlot.Series(e.getKey(), e.getValue(),
                    SvgPlot.PALETTE.get(colour++ % SvgPlot.PALETTE.size()), false));
        }
        return SvgPlot.lineChart(title, SvgPlot.Layout.of("minutes", "resident MB"), series, List.of());
    }

    /** The names traced, in the order first seen. */
    List<String> names() {
        return samples.stream().map(Sample::name).distinct().toList();
    }

    /** The largest sample of any process of this name. */
    double peakMb(String name) {
        return samples.stream().filter(x -> x.name().equals(name)).mapToDouble(Sample::mb).max().orElse(-1);
    }

    /** Minutes covered by the current process's samples. */
    double minutes(String name) {
        List<Point> p = current(name);
        return p.isEmpty() ? 0 : p.get(p.size() - 1).minutes() - p.get(0).minutes();
    }

    /** Least-squares slope of the current process's samples in MB per hour; NaN with fewer than 3 samples. */
    double slopeMbPerHour(String name) {
        return slopePerHour(current(name));
    }

    /**
     * The slope over the second half of the current process's samples (those from the middle of its span on); NaN
     * with fewer than 3 there.
     */
    double lateSlopeMbPerHour(String name) {
        List<Point> p = current(name);
        if (p.isEmpty()) {
            return Double.NaN;
        }
        double middle = (p.get(0).minutes() + p.get(p.size() - 1).minutes()) / 2;
        return slopePerHour(p.stream().filter(x -> x.minutes() >= middle).toList());
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
