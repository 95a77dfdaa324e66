package dev.d2v.evaluate.report;

import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.evaluate.report.SvgPlot.Point;
import dev.d2v.evaluate.report.SvgPlot.Reference;
import dev.d2v.evaluate.report.SvgPlot.Series;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The evaluation report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched) with
 * <ul>
 *   <li>a summary table: per modality, task and protocol the latest accuracy, the random-init baseline, the
 *       raw-feature baseline, the gain (over random init) and the best accuracy so far;</li>
 *   <li>per modality and task, accuracy against training step, one line per protocol (linear, k-NN, fine-tune),
 *       each protocol's random-init baseline as a dashed line of the same colour and its raw-feature baseline as
 *       a dotted one;</li>
 *   <li>per modality, the pretraining loss against step from the trainer's metrics JSONL.</li>
 * </ul>
 * {@link #rebuild} reads every results file and the metrics log and replaces the HTML atomically, so it can run
 * after each checkpoint while a browser reloads the page. {@link #terminalTable} prints the same summary as text.
 */
public final class Report {
    /** Loss curves longer than this are averaged down (see {@link LossCurves#downsample}). */
    public static final int MAX_LOSS_POINTS = 1000;

    /**
     * One line of the summary: the series (modality, task, protocol) at its latest checkpoint.
     *
     * @param baseline    random-init accuracy of the same protocol, NaN when not measured
     * @param raw         the same protocol on raw input features, NaN when not measured
     * @param best        best accuracy over all checkpoints
     * @param bestStep    the step where it was reached
     * @param checkpoints how many checkpoints were evaluated
     * @param testRows    test records the latest accuracy was measured on; 0 when not recorded
     */
    public record SummaryRow(Modality modality, String task, Protocol protocol, String checkpoint, long step,
                             double accuracy, double baseline, double raw, double best, long bestStep,
                             int checkpoints, int testRows) {
        public double gain() {
            return accuracy - baseline;
        }

        /** Half-width of the accuracy's 95% interval (normal approximation of the binomial); NaN when n is unknown. */
        public double margin() {
            return testRows > 0 ? Z95 * Math.sqrt(accuracy * (1 - accuracy) / testRows) : Double.NaN;
        }

        /**
         * Half-width of the gain's 95% interval, the two accuracies taken as independent binomials on testRows
         * records each. Both probes read the same test records, so this overstates the gain's noise: a gain beyond it
         * is real for these records. NaN when n or the baseline is unknown.
         */
        public double gainMargin() {
            if (testRows <= 0 || Double.isNaN(baseline)) {
                return Double.NaN;
            }
            return Z95 * Math.sqrt((accuracy * (1 - accuracy) + baseline * (1 - baseline)) / testRows);
        }
    }

    /** The standard normal's 97.5% quantile. */
    private static final double Z95 = 1.959964;

    private Report() {
    }

    /** Reads {@code resultsDir} and {@code metricsJsonl} (either may be missing) and replaces {@code html} atomically. */
    public static List<SummaryRow> rebuild(Path resultsDir, Path metricsJsonl, Path html, Instant now) throws IOException {
        List<String> problems = new ArrayList<>();
        List<EvalResult> results = ResultsFile.readAll(resultsDir, problems);
        LossCurves loss = metricsJsonl == null ? LossCurves.empty() : LossCurves.read(metricsJsonl);
        if (loss.skippedLines() > 0) {
            problems.add(loss.skippedLines() + " line(s) of " + metricsJsonl + " are not loss points and were skipped");
        }
        AtomicFiles.write(html, html(results, loss, problems, now));
        return summarize(results);
    }

    /** The summary rows, ordered by modality, task, protocol. */
    public static List<SummaryRow> summarize(List<EvalResult> results) {
        Map<String, List<EvalResult>> bySeries = new TreeMap<>();
        for (EvalResult r : results) {
            bySeries.computeIfAbsent(seriesOrder(r), k -> new ArrayList<>()).add(r);
        }
        List<SummaryRow> rows = new ArrayList<>();
        for (List<EvalResult> series : bySeries.values()) {
            series.sort(Comparator.comparingLong(EvalResult::step));
            EvalResult latest = series.get(series.size() - 1);
            EvalResult best = series.stream().max(Comparator.comparingDouble(EvalResult::accuracy)
                    .thenComparing(Comparator.comparingLong(EvalResult::step).reversed())).orElseThrow();
            rows.add(new SummaryRow(latest.modality(), latest.task(), latest.protocol(), latest.checkpoint(), latest.step(),
                    latest.accuracy(), baseline(series), raw(series), best.accuracy(), best.step(), series.size(),
                    (int) Math.round(latest.extras().getOrDefault("test_rows", 0.0))));
        }
        return rows;
    }

    /** Sort key: modality in enum order, then task, then protocol in enum order. */
    private static String seriesOrder(EvalResult r) {
        return r.modality().ordinal() + "/" + r.task() + "/" + r.protocol().ordinal();
    }

    /** The latest measured baseline of a series, NaN when none. */
    private static double baseline(List<EvalResult> seriesByStep) {
        for (int i = seriesByStep.size() - 1; i >= 0; i--) {
            if (seriesByStep.get(i).hasBaseline()) {
                return seriesByStep.get(i).baselineAccuracy();
            }
        }
        return Double.NaN;
    }

    /** The latest measured raw-feature baseline of a series, NaN when none. */
    private static double raw(List<EvalResult> seriesByStep) {
        for (int i = seriesByStep.size() - 1; i >= 0; i--) {
            if (seriesByStep.get(i).hasRaw()) {
                return seriesByStep.get(i).rawAccuracy();
            }
        }
        return Double.NaN;
    }

    /** The whole page. */
    public static String html(List<EvalResult> results, LossCurves loss, List<String> problems, Instant now) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>d2v evaluation report</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}")
                .append("svg{margin:0.5em 1em 0.5em 0}.gain{color:#007a3d}.loss{color:#b00}</style>\n</head><body>\n")
                .append("<h1>d2v evaluation report</h1>\n<p>Generated ").append(Html.escape(now.toString())).append(": ")
                .append(results.size()).append(" results from ")
                .append(results.stream().map(EvalResult::checkpoint).distinct().count()).append(" checkpoint(s).</p>\n");

        b.append("<h2>Summary</h2>\n").append(summaryTable(summarize(results)));

        b.append("<h2>Probe accuracy</h2>\n<p>Accuracy on the test split against training step; dashed: the same protocol "
                + "on a randomly initialised encoder of the same shape; dotted: the same protocol on the raw input "
                + "features (pixels, log-mel statistics, a bag of token ids), no encoder.</p>\n<div class=\"plots\">\n");
        Map<String, List<EvalResult>> byTask = new TreeMap<>();
        for (EvalResult r : results) {
            byTask.computeIfAbsent(r.modality().ordinal() + "/" + r.task(), k -> new ArrayList<>()).add(r);
        }
        if (byTask.isEmpty()) {
            b.append(SvgPlot.lineChart("probe accuracy", SvgPlot.Layout.of("step", "accuracy"), List.of(), List.of()));
        }
        for (List<EvalResult> task : byTask.values()) {
            b.append(accuracyPlot(task));
        }
        b.append("</div>\n<h2>Pretraining loss</h2>\n<div class=\"plots\">\n");
        if (loss.lossByModality().isEmpty()) {
            b.append(SvgPlot.lineChart("pretraining loss", SvgPlot.Layout.of("step", "loss"), List.of(), List.of()));
        }
        int colour = 0;
        for (Map.Entry<String, List<Point>> e : loss.lossByModality().entrySet()) {
            List<Point> curve = LossCurves.downsample(e.getValue(), MAX_LOSS_POINTS);
            Series s = new Series(e.getKey() + " loss", curve, SvgPlot.PALETTE.get(colour++ % SvgPlot.PALETTE.size()),
                    curve.size() <= 50);
            b.append(SvgPlot.lineChart(e.getKey() + ": pretraining loss", SvgPlot.Layout.of("step", "loss"), List.of(s), List.of()));
        }
        b.append("</div>\n");
        if (!problems.isEmpty()) {
            b.append("<h2>Problems</h2>\n<ul>\n");
            problems.forEach(p -> b.append("<li>").append(Html.escape(p)).append("</li>\n"));
            b.append("</ul>\n");
        }
        b.append("</body></html>\n");
        return b.toString();
    }

    /** One (modality, task): a series per protocol, its baseline dashed in the same colour. */
    static String accuracyPlot(List<EvalResult> task) {
        Map<Protocol, List<EvalResult>> byProtocol = new TreeMap<>();
        for (EvalResult r : task) {
            byProtocol.computeIfAbsent(r.protocol(), k -> new ArrayList<>()).add(r);
        }
        List<Series> series = new ArrayList<>();
        List<Reference> refs = new ArrayList<>();
        for (Map.Entry<Protocol, List<EvalResult>> e : byProtocol.entrySet()) {
            List<EvalResult> rs = new ArrayList<>(e.getValue());
            rs.sort(Comparator.comparingLong(EvalResult::step));
            String colour = SvgPlot.PALETTE.get(e.getKey().ordinal());
            series.add(new Series(label(e.getKey()), rs.stream().map(r -> new Point(r.step(), r.accuracy())).toList(),
                    colour, true));
            double baseline = baseline(rs);
            if (!Double.isNaN(baseline)) {
                refs.add(new Reference(label(e.getKey()) + ", random init", baseline, colour));
            }
            double raw = raw(rs);
            if (!Double.isNaN(raw)) {
                refs.add(new Reference(label(e.getKey()) + ", raw features", raw, colour, Reference.DOTTED));
            }
        }
        EvalResult any = task.get(0);
        return SvgPlot.lineChart(any.modality().id() + " / " + any.task() + ": probe accuracy",
                SvgPlot.Layout.of("step", "test accuracy"), series, refs);
    }

    private static String label(Protocol p) {
        return switch (p) {
            case LINEAR -> "linear probe";
            case KNN -> "k-NN";
            case FINETUNE -> "fine-tune";
        };
    }

    private static String summaryTable(List<SummaryRow> rows) {
        StringBuilder b = new StringBuilder("<table class=\"summary\">\n<tr><th class=\"l\">modality</th><th class=\"l\">task</th>"
                + "<th class=\"l\">protocol</th><th>step</th><th>accuracy</th><th>random init</th><th>raw features</th><th>gain</th>"
                + "<th>best (step)</th><th>checkpoints</th></tr>\n");
        for (SummaryRow r : rows) {
            double gain = r.gain();
            b.append("<tr><td class=\"l\">").append(r.modality().id()).append("</td><td class=\"l\">")
                    .append(Html.escape(r.task())).append("</td><td class=\"l\">").append(r.protocol().id())
                    .append("</td><td>").append(r.step()).append("</td><td>").append(percent(r.accuracy()))
                    .append(plusMinus(r.margin())).append("</td><td>").append(percent(r.baseline()))
                    .append("</td><td>").append(percent(r.raw()))
                    .append("</td><td class=\"")
                    .append(Double.isNaN(gain) ? "" : gain >= 0 ? "gain" : "loss").append("\">").append(points(gain))
                    .append(plusMinus(r.gainMargin())).append("</td><td>").append(percent(r.best()))
                    .append(" (").append(r.bestStep()).append(")</td><td>")
                    .append(r.checkpoints()).append("</td></tr>\n");
        }
        if (rows.isEmpty()) {
            b.append("<tr><td class=\"l\" colspan=\"10\">no evaluations yet</td></tr>\n");
        }
        return b.append("</table>\n").toString();
    }

    /** The summary as an aligned text table for the terminal (the demo's last output). */
    public static String terminalTable(List<EvalResult> results) {
        List<SummaryRow> rows = summarize(results);
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"modality", "task", "protocol", "step", "accuracy", "random init", "raw features", "gain",
            "best (step)"});
        for (SummaryRow r : rows) {
            cells.add(new String[] {r.modality().id(), r.task(), r.protocol().id(), Long.toString(r.step()),
                percent(r.accuracy()) + plusMinus(r.margin()), percent(r.baseline()), percent(r.raw()),
                points(r.gain()) + plusMinus(r.gainMargin()), percent(r.best()) + " (" + r.bestStep() + ")"});
        }
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
                boolean left = c < 3;
                String pad = " ".repeat(width[c] - row[c].length());
                b.append(c == 0 ? "" : "  ").append(left ? row[c] + pad : pad + row[c]);
            }
            b.append('\n');
            if (i == 0) {
                int total = Arrays.stream(width).sum() + 2 * (width.length - 1);
                b.append("-".repeat(total)).append('\n');
            }
        }
        if (rows.isEmpty()) {
            b.append("(no evaluations yet)\n");
        }
        if (rows.stream().anyMatch(r -> r.testRows() > 0)) {
            b.append("±: half-width of the 95% interval over the test records (binomial); the gain's takes the two probes "
                    + "as independent, which overstates it\n");
        }
        return b.toString();
    }

    /** " ±2.3" (percentage points), or "" for NaN. */
    static String plusMinus(double halfWidth) {
        return Double.isNaN(halfWidth) ? "" : String.format(Locale.ROOT, " ±%.1f", 100 * halfWidth);
    }

    /** 0.8612 -&gt; "86.1%"; NaN -&gt; "-". */
    static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    /** A difference of accuracies in percentage points, signed; NaN -&gt; "-". */
    static String points(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.1f", 100 * v);
    }

    /** The rows as a map from series key (modality/task/protocol) to row, for callers that look one up. */
    public static Map<String, SummaryRow> bySeries(List<SummaryRow> rows) {
        Map<String, SummaryRow> out = new LinkedHashMap<>();
        rows.forEach(r -> out.put(r.modality().id() + "/" + r.task() + "/" + r.protocol().id(), r));
        return out;
    }
}
