package dev.d2v.evaluate.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line-chart writer producing self-contained SVG (no scripts, no external resources), enough for the
 * evaluation report: lines with optional point markers, dashed horizontal reference lines, linear axes with
 * "nice" ticks, a title and a legend. Every series is one {@code <polyline class="series">} whose
 * {@code points} attribute holds exactly its points, and markers are {@code <circle class="pt">}, so tests (and
 * people) can count what was drawn.
 */
public final class SvgPlot {
    /** Colours that stay distinguishable for common colour-vision deficiencies (Okabe and Ito). */
    public static final List<String> PALETTE = List.of("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
            "#56B4E9", "#000000");

    public record Point(double x, double y) {
    }

    /**
     * @param name    legend text
     * @param points  in x order
     * @param color   CSS colour
     * @param markers whether each point also gets a circle (for sparse series such as checkpoints)
     */
    public record Series(String name, List<Point> points, String color, boolean markers) {
        public Series {
            points = List.copyOf(points);
        }
    }

    /**
     * A dashed horizontal line at y (a baseline), in the legend as {@code name}.
     *
     * @param dash SVG stroke-dasharray: {@link #DASHED} (the random-init baselines), {@link #DOTTED} (raw features)
     */
    public record Reference(String name, double y, String color, String dash) {
        public static final String DASHED = "6 4";
        public static final String DOTTED = "2 3";

        public Reference(String name, double y, String color) {
            this(name, y, color, DASHED);
        }
    }

    /** Size and labels of one chart. */
    public record Layout(int width, int height, String xLabel, String yLabel) {
        public static Layout of(String xLabel, String yLabel) {
            return new Layout(680, 320, xLabel, yLabel);
        }
    }

    private static final int LEFT = 60;
    private static final int RIGHT = 200; // legend column
    private static final int TOP = 30;
    private static final int BOTTOM = 45;

    private SvgPlot() {
    }

    /** One line chart as an {@code <svg>} element. Empty input draws the frame and "no data yet". */
    public static String lineChart(String title, Layout layout, List<Series> series, List<Reference> references) {
        List<Point> all = new ArrayList<>();
        series.forEach(s -> all.addAll(s.points()));
        double[] xr = range(all.stream().mapToDouble(Point::x).toArray(), new double[0]);
        double[] yr = range(all.stream().mapToDouble(Point::y).toArray(),
                references.stream().mapToDouble(Reference::y).filter(Double::isFinite).toArray());
        int w = layout.width();
        int h = layout.height();
        double plotW = w - LEFT - RIGHT;
        double plotH = h - TOP - BOTTOM;
        Scale sx = new Scale(xr[0], xr[1], LEFT, LEFT + plotW);
        Scale sy = new Scale(yr[0], yr[1], TOP + plotH, TOP);

        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "data-title=\"%s\" font-family=\"sans-serif\" font-size=\"11\">%n", w, h, w, h, Html.escape(title)));
        b.append(String.format(Locale.ROOT, "<title>%s</title>%n", Html.escape(title)));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%s</text>%n",
                LEFT, Html.escape(title)));
        b.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>%n", LEFT, TOP, plotW, plotH));
        if (all.isEmpty()) {
            b.append(String.format(Locale.ROOT, "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666\">"
                    + "no data yet</text>%n", LEFT + plotW / 2, TOP + plotH / 2));
        } else {
            axes(b, sx, sy, layout, plotW, plotH);
        }
        int legendY = TOP + 12;
        for (Reference r : references) {
            if (!Double.isFinite(r.y()) || all.isEmpty()) {
                continue;
            }
            double y = sy.map(r.y());
            b.append(String.format(Locale.ROOT, "<line class=\"baseline\" data-name=\"%s\" x1=\"%d\" y1=\"%.2f\" x2=\"%.1f\" "
                            + "y2=\"%.2f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"%s\"/>%n",
                    Html.escape(r.name()), LEFT, y, LEFT + plotW, y, r.color(), Html.escape(r.dash())));
            legendY = legend(b, w, legendY, r.name(), r.color(), r.dash());
        }
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (Point p : s.points()) {
                if (pts.length() > 0) {
                    pts.append(' ');
                }
                pts.append(String.format(Locale.ROOT, "%.2f,%.2f", sx.map(p.x()), sy.map(p.y())));
            }
            b.append(String.format(Locale.ROOT, "<polyline class=\"series\" data-name=\"%s\" data-count=\"%d\" points=\"%s\" "
                    + "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n", Html.escape(s.name()), s.points().size(), pts, s.color()));
            if (s.markers()) {
                for (Point p : s.points()) {
                    b.append(String.format(Locale.ROOT, "<circle class=\"pt\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\">"
                                    + "<title>%s: step %s, %s</title></circle>%n", sx.map(p.x()), sy.map(p.y()), s.color(),
                            Html.escape(s.name()), number(p.x()), number(p.y())));
                }
            }
            legendY = legend(b, w, legendY, s.name(), s.color(), null);
        }
        b.append("</svg>\n");
        return b.toString();
    }

    /** dash: a stroke-dasharray, null for a solid line. */
    private static int legend(StringBuilder b, int width, int y, String name, String color, String dash) {
        int x = width - RIGHT + 12;
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                        + "<text x=\"%d\" y=\"%d\">%s</text>%n", x, y - 4, x + 22, y - 4, color,
                dash == null ? "" : " stroke-dasharray=\"" + Html.escape(dash) + "\"", x + 28, y, Html.escape(name)));
        return y + 16;
    }

    private static void axes(StringBuilder b, Scale sx, Scale sy, Layout layout, double plotW, double plotH) {
        for (double t : ticks(sx.lo, sx.hi, 6)) {
            double x = sx.map(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#999\"/>"
                            + "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                    x, TOP + plotH, x, TOP + plotH + 4, x, TOP + plotH + 16, number(t)));
        }
        for (double t : ticks(sy.lo, sy.hi, 5)) {
            double y = sy.map(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#eee\"/>"
                            + "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%s</text>%n",
                    LEFT, y, LEFT + plotW, y, LEFT - 4, y + 4, number(t)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotW / 2, TOP + plotH + 34, Html.escape(layout.xLabel())));
        b.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s</text>%n",
                TOP + plotH / 2, TOP + plotH / 2, Html.escape(layout.yLabel())));
    }

    /** Maps [lo, hi] in data units to [a, b] in pixels. */
    private record Scale(double lo, double hi, double a, double b) {
        double map(double v) {
            return a + (v - lo) / (hi - lo) * (b - a);
        }
    }

    /**
     * [lo, hi] covering the values and extras with 5% padding; a single value or an empty set gets a unit-wide
     * range around it, so one point sits in the middle instead of dividing by zero.
     */
    static double[] range(double[] values, double[] extras) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] arr : new double[][] {values, extras}) {
            for (double v : arr) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            return new double[] {0, 1};
        }
        if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
            double half = Math.max(0.5, Math.abs(hi) * 0.1);
            return new double[] {lo - half, hi + half};
        }
        double pad = (hi - lo) * 0.05;
        return new double[] {lo - pad, hi + pad};
    }

    /** Round tick values (1, 2, 5 times a power of ten) inside [lo, hi], about {@code target} of them. */
    static List<Double> ticks(double lo, double hi, int target) {
        double span = hi - lo;
        double raw = span / target;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag; // in [1, 10): round up to 1, 2, 5 or 10 so that there are at most about target ticks
        double step = f > 5 ? 10 * mag : f > 2 ? 5 * mag : f > 1 ? 2 * mag : mag;
        List<Double> out = new ArrayList<>();
        for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
            out.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
        }
        return out;
    }

    /** Compact number text: integers plain, others with up to 4 significant digits. */
    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        String s = String.format(Locale.ROOT, "%.4g", v);
        if (s.contains("e")) {
            return s;
        }
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
