package dev.d2v.pipelines.ablate;

import dev.d2v.evaluate.report.Html;
import dev.d2v.evaluate.report.SvgPlot;
import dev.d2v.evaluate.report.SvgPlot.Point;
import dev.d2v.evaluate.report.SvgPlot.Reference;
import dev.d2v.evaluate.report.SvgPlot.Series;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What a sweep's lines say: per variant, task and protocol the accuracy at each run's last checkpoint, mean and
 * spread over seeds, beside the random-init and raw-feature baselines ({@link #terminalTable}); and a page with the
 * same table and, per task and protocol, accuracy against training step with one line per variant ({@link #html}).
 * Variants keep the order in which the lines first name them (the grid's order).
 */
public final class AblationReport {

    /** More variants than this and the per-variant random-init lines are left off the plots (the legend overflows). */
    static final int MAX_BASELINE_LINES = 6;

    private AblationReport() {
    }

    /**
     * One row of the summary.
     *
     * @param steps     each seed's last checkpoint step
     * @param accuracy  each seed's accuracy there
     * @param baseline  random-init accuracy, mean over seeds; NaN when not measured
     * @param raw       raw-feature accuracy, mean over seeds; NaN when not measured
     */
    public record Row(String variant, String task, Protocol protocol, List<Long> steps, List<Double> accuracy,
                      double baseline, double raw) {

        public double mean() {
            return accuracy.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        /** Sample standard deviation over seeds; NaN for one seed. */
        public double sd() {
            int n = accuracy.size();
            if (n < 2) {
                return Double.NaN;
            }
            double m = mean();
            return Math.sqrt(accuracy.stream().mapToDouble(a -> (a - m) * (a - m)).sum() / (n - 1));
        }

        public double gain() {
            return mean() - baseline;
        }
    }

    /** The rows: variants in order of appearance, then task, then protocol. */
    public static List<Row> summarize(List<AblationLine> lines) {
        Map<String, Map<String, List<AblationLine>>> byRowThenRun = new LinkedHashMap<>();
        for (AblationLine l : ordered(lines)) {
            byRowThenRun.computeIfAbsent(rowKey(l), k -> new LinkedHashMap<>())
                    .computeIfAbsent(l.run(), k -> new ArrayList<>()).add(l);
        }
        List<Row> rows = new ArrayList<>();
        for (Map<String, List<AblationLine>> runs : byRowThenRun.values()) {
            List<AblationLine> last = runs.values().stream()
                    .map(r -> r.stream().max(Comparator.comparingLong(l -> l.result().step())).orElseThrow()).toList();
            EvalResult any = last.get(0).result();
            rows.add(new Row(last.get(0).variant(), any.task(), any.protocol(),
                    last.stream().map(l -> l.result().step()).toList(),
                    last.stream().map(l -> l.result().accuracy()).toList(),
                    meanOf(last, l -> l.result().baselineAccuracy()), meanOf(last, l -> l.result().rawAccuracy())));
        }
        return rows;
    }

    /** The summary as an aligned text table. */
    public static String terminalTable(List<AblationLine> lines) {
        List<String[]> cells = new ArrayList<>();
        cells.add(header());
        summarize(lines).forEach(r -> cells.add(cells(r)));
        int[] width = new int[cells.get(0).length];
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String[] row = cells.get(i);
            for (int c = 0; c < row.length; c++) {
                String pad = " ".repeat(width[c] - row[c].length());
                b.append(c == 0 ? "" : "  ").append(c < 3 ? row[c] + pad : pad + row[c]);
            }
            b.append('\n');
            if (i == 0) {
                b.append("-".repeat(Arrays.stream(width).sum() + 2 * (width.length - 1))).append('\n');
            }
        }
        if (cells.size() == 1) {
            b.append("(no evaluations yet)\n");
        }
        return b.toString();
    }

    private static String[] header() {
        return new String[] {"variant", "task", "protocol", "step", "seeds", "accuracy (± sd)", "random init",
            "raw features", "gain"};
    }

    private static String[] cells(Row r) {
        long lo = r.steps().stream().mapToLong(Long::longValue).min().orElse(0);
        long hi = r.steps().stream().mapToLong(Long::longValue).max().orElse(0);
        double sd = r.sd();
        return new String[] {r.variant(), r.task(), r.protocol().id(), lo == hi ? Long.toString(hi) : lo + "-" + hi,
            Integer.toString(r.accuracy().size()),
            percent(r.mean()) + (Double.isNaN(sd) ? "" : String.format(Locale.ROOT, " ± %.1f", 100 * sd)),
            percent(r.baseline()), percent(r.raw()), points(r.gain())};
    }

    /**
     * The whole page, self-contained (inline SVG, no scripts): the summary table, then a plot per task and protocol
     * with one line per variant (its runs' k-th checkpoints averaged over seeds: the mean step against the mean
     * accuracy), its random-init accuracy dashed in the same colour, the raw-feature accuracy dotted.
     *
     * @param title    the page's heading (the sweep's name)
     * @param about    a line on how the sweep ran (modality, data, budget, seeds)
     * @param problems lines that could not be read, and the like; listed at the end
     */
    public static String html(String title, String about, List<AblationLine> lines, List<String> problems, Instant now) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
                .append(Html.escape(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}")
                .append("svg{margin:0.5em 1em 0.5em 0}</style>\n</head><body>\n<h1>").append(Html.escape(title)).append("</h1>\n")
                .append("<p>").append(Html.escape(about)).append("</p>\n<p>Generated ").append(Html.escape(now.toString()))
                .append(": ").append(lines.size()).append(" results from ")
                .append(lines.stream().map(AblationLine::run).distinct().count()).append(" run(s).</p>\n");

        b.append("<h2>Final accuracy</h2>\n<p>At each run's last checkpoint, mean over seeds (± sample standard "
                + "deviation); random init: the same protocol on a randomly initialised encoder of the same shape; raw "
                + "features: on the input itself, no encoder.</p>\n<table>\n<tr>");
        String[] head = header();
        for (int c = 0; c < head.length; c++) {
            b.append("<th").append(c < 3 ? " class=\"l\"" : "").append(">").append(Html.escape(head[c])).append("</th>");
        }
        b.append("</tr>\n");
        for (Row r : summarize(lines)) {
            String[] cells = cells(r);
            b.append("<tr>");
            for (int c = 0; c < cells.length; c++) {
                b.append("<td").append(c < 3 ? " class=\"l\"" : "").append(">").append(Html.escape(cells[c])).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table>\n<h2>Accuracy against training step</h2>\n<div class=\"plots\">\n");
        Map<String, List<AblationLine>> byPlot = new LinkedHashMap<>();
        for (AblationLine l : ordered(lines)) {
            byPlot.computeIfAbsent(l.result().task() + "/" + l.result().protocol().id(), k -> new ArrayList<>()).add(l);
        }
        if (byPlot.isEmpty()) {
            b.append(SvgPlot.lineChart("probe accuracy", SvgPlot.Layout.of("step", "test accuracy"), List.of(), List.of()));
        }
        for (List<AblationLine> plot : byPlot.values()) {
            b.append(plot(plot));
        }
        b.append("</div>\n");
        if (!problems.isEmpty()) {
            b.append("<h2>Problems</h2>\n<ul>\n");
            problems.forEach(p -> b.append("<li>").append(Html.escape(p)).append("</li>\n"));
            b.append("</ul>\n");
        }
        return b.append("</body></html>\n").toString();
    }

    /** One task and protocol: a line per variant. */
    static String plot(List<AblationLine> lines) {
        Map<String, Map<String, List<AblationLine>>> byVariantThenRun = new LinkedHashMap<>();
        for (AblationLine l : lines) {
            byVariantThenRun.computeIfAbsent(l.variant(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(l.run(), k -> new ArrayList<>()).add(l);
        }
        List<Series> series = new ArrayList<>();
        List<Reference> refs = new ArrayList<>();
        List<Double> raws = new ArrayList<>();
        int colour = 0;
        for (Map.Entry<String, Map<String, List<AblationLine>>> v : byVariantThenRun.entrySet()) {
            String c = SvgPlot.PALETTE.get(colour++ % SvgPlot.PALETTE.size());
            List<List<AblationLine>> runs = v.getValue().values().stream()
                    .map(r -> r.stream().sorted(Comparator.comparingLong(l -> l.result().step())).toList()).toList();
            series.add(new Series(v.getKey(), averagedByCheckpoint(runs), c, true));
            List<AblationLine> all = runs.stream().flatMap(List::stream).toList();
            double baseline = meanOf(all, l -> l.result().baselineAccuracy());
            if (!Double.isNaN(baseline) && byVariantThenRun.size() <= MAX_BASELINE_LINES) {
                refs.add(new Reference(v.getKey() + ", random init", baseline, c));
            }
            raws.add(meanOf(all, l -> l.result().rawAccuracy()));
        }
        double raw = raws.stream().filter(d -> !Double.isNaN(d)).mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        if (!Double.isNaN(raw)) {
            refs.add(new Reference("raw features", raw, "#666666", Reference.DOTTED));
        }
        EvalResult any = lines.get(0).result();
        return SvgPlot.lineChart(any.task() + " / " + label(any.protocol()) + ": accuracy by variant",
                SvgPlot.Layout.of("step", "test accuracy"), series, refs);
    }

    /**
     * The k-th checkpoint of each run (runs sorted by step) averaged over the runs that have one: with a step budget
     * the seeds share their steps and this is the mean at each step; with a time budget it is the mean of where each
     * seed's k-th part ended.
     */
    static List<Point> averagedByCheckpoint(List<List<AblationLine>> runs) {
        int most = runs.stream().mapToInt(List::size).max().orElse(0);
        List<Point> out = new ArrayList<>();
        for (int k = 0; k < most; k++) {
            double steps = 0;
            double acc = 0;
            int n = 0;
            for (List<AblationLine> r : runs) {
                if (k < r.size()) {
                    steps += r.get(k).result().step();
                    acc += r.get(k).result().accuracy();
                    n++;
                }
            }
            out.add(new Point(steps / n, acc / n));
        }
        return out;
    }

    /** The lines with a later duplicate of the same key dropped (the last one counts). */
    private static List<AblationLine> ordered(List<AblationLine> lines) {
        Map<String, AblationLine> byKey = new LinkedHashMap<>();
        for (AblationLine l : lines) {
            byKey.remove(l.key());
            byKey.put(l.key(), l);
        }
        // variants in order of their first line, then task and protocol; a stable sort keeps the rest in file order
        Map<String, Integer> variantOrder = new LinkedHashMap<>();
        lines.forEach(l -> variantOrder.putIfAbsent(l.variant(), variantOrder.size()));
        List<AblationLine> out = new ArrayList<>(byKey.values());
        out.sort(Comparator.comparing((AblationLine l) -> variantOrder.get(l.variant()))
                .thenComparing(l -> l.result().task()).thenComparing(l -> l.result().protocol()));
        return out;
    }

    private static String rowKey(AblationLine l) {
        return l.variant() + "\u0000" + l.result().task() + "\u0000" + l.result().protocol().id();
    }

    private static double meanOf(List<AblationLine> lines, ToDoubleFunction<AblationLine> f) {
        return lines.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    }

    private static String label(Protocol p) {
        return switch (p) {
            case LINEAR -> "linear probe";
            case KNN -> "k-NN";
            case FINETUNE -> "fine-tune";
        };
    }

    /** 0.8612 -&gt; "86.1%"; NaN -&gt; "-". */
    static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    /** A difference of accuracies in percentage points, signed; NaN -&gt; "-". */
    static String points(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.1f", 100 * v);
    }
}
