package dev.d2v.evaluate.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.infra.wire.EvalResult;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    private static final Instant NOW = Instant.parse("2026-11-28T21:00:00Z");
    private static final Pattern SVG = Pattern.compile("<svg [^>]*data-title=\"([^\"]*)\"[^>]*>(.*?)</svg>", Pattern.DOTALL);
    private static final Pattern POLYLINE = Pattern.compile("<polyline class=\"series\" data-name=\"([^\"]*)\" data-count=\"(\\d+)\" points=\"([^\"]*)\"");

    @TempDir
    Path dir;

    private static EvalResult result(String checkpoint, long step, Modality m, String task, Protocol p, double acc, double base) {
        return new EvalResult(checkpoint, step, m, task, p, acc, base, Map.of());
    }

    /** Three checkpoints x (image/fashion-mnist: linear + knn, text/wordnet: linear). */
    private static List<EvalResult> threeCheckpoints() {
        List<EvalResult> out = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            String id = String.format("step-%09d", i * 1000);
            out.add(result(id, i * 1000L, Modality.IMAGE, "fashion-mnist", Protocol.LINEAR, 0.70 + 0.05 * i, 0.72));
            out.add(result(id, i * 1000L, Modality.IMAGE, "fashion-mnist", Protocol.KNN, 0.68 + 0.05 * i, 0.70));
            out.add(result(id, i * 1000L, Modality.TEXT, "wordnet", Protocol.LINEAR, 0.30 + 0.02 * i, Double.NaN));
        }
        return out;
    }

    /** title -&gt; SVG body. */
    private static Map<String, String> svgs(String html) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = SVG.matcher(html);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    /** series name -&gt; number of points in its polyline (checked against data-count). */
    private static Map<String, Integer> polylines(String svg) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Matcher m = POLYLINE.matcher(svg);
        while (m.find()) {
            String pts = m.group(3).trim();
            int n = pts.isEmpty() ? 0 : pts.split(" ").length;
            assertThat(n).as("points of %s", m.group(1)).isEqualTo(Integer.parseInt(m.group(2)));
            for (String p : pts.isEmpty() ? new String[0] : pts.split(" ")) {
                assertThat(p).matches("-?\\d+\\.\\d+,-?\\d+\\.\\d+");
            }
            out.put(m.group(1), n);
        }
        return out;
    }

    private static int count(String s, String needle) {
        return s.split(Pattern.quote(needle), -1).length - 1;
    }

    @Test
    void oneSvgPerPlotWithTheRightPoints() {
        List<Point3> loss = List.of(new Point3(0, "image", 2.0), new Point3(10, "image", 1.5), new Point3(20, "image", 1.2),
                new Point3(0, "text", 5.0), new Point3(10, "text", 4.0));
        LossCurves metrics = new LossCurves(Map.of(
                "image", loss.stream().filter(p -> p.m.equals("image")).map(p -> new SvgPlot.Point(p.step, p.loss)).toList(),
                "text", loss.stream().filter(p -> p.m.equals("text")).map(p -> new SvgPlot.Point(p.step, p.loss)).toList()), 0);
        String html = Report.html(threeCheckpoints(), metrics, List.of(), NOW);

        Map<String, String> svgs = svgs(html);
        assertThat(count(html, "<svg ")).isEqualTo(4);
        assertThat(svgs.keySet()).containsExactlyInAnyOrder("image / fashion-mnist: probe accuracy",
                "text / wordnet: probe accuracy", "image: pretraining loss", "text: pretraining loss");
        String fashion = svgs.get("image / fashion-mnist: probe accuracy");
        assertThat(polylines(fashion)).containsExactly(Map.entry("linear probe", 3), Map.entry("k-NN", 3));
        assertThat(count(fashion, "<circle class=\"pt\"")).isEqualTo(6);
        assertThat(count(fashion, "class=\"baseline\"")).isEqualTo(2);
        assertThat(fashion).contains("stroke-dasharray=\"6 4\"", "linear probe, random init", "k-NN, random init");
        String wordnet = svgs.get("text / wordnet: probe accuracy");
        assertThat(polylines(wordnet)).containsExactly(Map.entry("linear probe", 3));
        assertThat(count(wordnet, "class=\"baseline\"")).isZero(); // never measured: no dashed line
        assertThat(polylines(svgs.get("image: pretraining loss"))).containsExactly(Map.entry("image loss", 3));
        assertThat(polylines(svgs.get("text: pretraining loss"))).containsExactly(Map.entry("text loss", 2));
        assertThat(html).doesNotContain("<script", "https://", "src="); // self-contained
        assertThat(html).doesNotContain("NaN", "Infinity");
        // summary: latest step, accuracy, baseline and gain
        assertThat(html).contains("<td class=\"l\">fashion-mnist</td><td class=\"l\">linear</td><td>3000</td><td>85.0%</td>"
                + "<td>72.0%</td><td>-</td><td class=\"gain\">+13.0</td><td>85.0% (3000)</td><td>3</td>");
    }

    @Test
    void rawFeatureBaselineIsAColumnAndADottedLine() {
        List<EvalResult> results = new ArrayList<>();
        for (EvalResult r : threeCheckpoints()) {
            boolean image = r.modality() == Modality.IMAGE;
            // the raw figure of the k-NN series arrives only with the second checkpoint: the latest measured one counts
            results.add(!image ? r : r.protocol() == Protocol.LINEAR ? r.withRaw(0.8) : r.step() >= 2000 ? r.withRaw(0.77) : r);
        }
        String fashion = svgs(Report.html(results, LossCurves.empty(), List.of(), NOW))
                .get("image / fashion-mnist: probe accuracy");
        assertThat(count(fashion, "class=\"baseline\"")).isEqualTo(4); // random init and raw features per protocol
        assertThat(fashion).contains("data-name=\"linear probe, raw features\"", "data-name=\"k-NN, raw features\"",
                "stroke-dasharray=\"" + SvgPlot.Reference.DOTTED + "\"");
        assertThat(count(fashion, "stroke-dasharray=\"" + SvgPlot.Reference.DOTTED + "\"")).isEqualTo(2 + 2); // lines, legend
        String wordnet = svgs(Report.html(results, LossCurves.empty(), List.of(), NOW)).get("text / wordnet: probe accuracy");
        assertThat(wordnet).doesNotContain("raw features");

        Map<String, Report.SummaryRow> rows = Report.bySeries(Report.summarize(results));
        assertThat(rows.get("image/fashion-mnist/linear").raw()).isEqualTo(0.8);
        assertThat(rows.get("image/fashion-mnist/knn").raw()).isEqualTo(0.77);
        assertThat(rows.get("text/wordnet/linear").raw()).isNaN();
        assertThat(Report.html(results, LossCurves.empty(), List.of(), NOW)).contains("<th>raw features</th>",
                "<td>85.0%</td><td>72.0%</td><td>80.0%</td><td class=\"gain\">+13.0</td>");

        List<String> lines = Report.terminalTable(results).lines().toList();
        assertThat(lines.get(0)).contains("random init  raw features");
        assertThat(lines.get(2)).matches("image +fashion-mnist +linear +3000 +85\\.0% +72\\.0% +80\\.0% +\\+13\\.0 +85\\.0% \\(3000\\)");
        assertThat(lines.get(3)).contains("77.0%");
        assertThat(lines.stream().map(String::length).distinct()).hasSize(1);
    }

    private record Point3(double step, String m, double loss) {
    }

    @Test
    void survivesEmptyInput() {
        String html = Report.html(List.of(), LossCurves.empty(), List.of(), NOW);
        assertThat(count(html, "<svg ")).isEqualTo(2);
        assertThat(count(html, "no data yet")).isEqualTo(2);
        assertThat(html).contains("no evaluations yet").doesNotContain("NaN", "Infinity");
        assertThat(Report.terminalTable(List.of())).contains("(no evaluations yet)");
    }

    @Test
    void survivesOnePoint() {
        List<EvalResult> one = List.of(result("step-000000000", 0, Modality.AUDIO, "spoken-digits", Protocol.LINEAR, 0.5, 0.5));
        LossCurves metrics = new LossCurves(Map.of("audio", List.of(new SvgPlot.Point(0, 3.0))), 0);
        String html = Report.html(one, metrics, List.of(), NOW);
        Map<String, String> svgs = svgs(html);
        assertThat(svgs).hasSize(2);
        assertThat(polylines(svgs.get("audio / spoken-digits: probe accuracy"))).containsExactly(Map.entry("linear probe", 1));
        assertThat(polylines(svgs.get("audio: pretraining loss"))).containsExactly(Map.entry("audio loss", 1));
        assertThat(count(html, "<circle class=\"pt\"")).isEqualTo(2); // one visible marker each
        assertThat(html).doesNotContain("NaN", "Infinity");
    }

    @Test
    void namesAreEscaped() {
        String html = Report.html(List.of(result("c<1>", 5, Modality.TEXT, "a<b>&\"c\"", Protocol.KNN, 0.1, Double.NaN)),
                LossCurves.empty(), List.of("file <x> broken"), NOW);
        assertThat(html).contains("a&lt;b&gt;&amp;&quot;c&quot;", "file &lt;x&gt; broken").doesNotContain("a<b>");
    }

    @Test
    void terminalTableIsAligned() {
        String table = Report.terminalTable(threeCheckpoints());
        List<String> lines = table.lines().toList();
        assertThat(lines).hasSize(2 + 3);
        assertThat(lines.stream().map(String::length).distinct()).hasSize(1); // every line equally wide
        assertThat(lines.get(0)).startsWith("modality  task").contains("random init");
        assertThat(lines.get(2)).matches("image +fashion-mnist +linear +3000 +85\\.0% +72\\.0% +- +\\+13\\.0 +85\\.0% \\(3000\\)");
        assertThat(lines.get(4)).contains("wordnet").contains("36.0%").contains(" - ");
    }

    @Test
    void terminalTableGivesTheNinetyFivePercentIntervalWhenTheTestSizeIsKnown() {
        EvalResult r = new EvalResult("step-000000100", 100, Modality.IMAGE, "mnist", Protocol.LINEAR, 0.9, 0.8, 0.85,
                Map.of("test_rows", 500.0));
        Report.SummaryRow row = Report.summarize(List.of(r)).get(0);
        assertThat(row.testRows()).isEqualTo(500);
        assertThat(row.margin()).isCloseTo(1.959964 * Math.sqrt(0.9 * 0.1 / 500), within(1e-12));   // 2.6 points
        assertThat(row.gainMargin()).isCloseTo(1.959964 * Math.sqrt((0.09 + 0.16) / 500), within(1e-12)); // 4.4
        List<String> lines = Report.terminalTable(List.of(r)).lines().toList();
        assertThat(lines.get(2)).matches("image +mnist +linear +100 +90\\.0% ±2\\.6 +80\\.0% +85\\.0% +\\+10\\.0 ±4\\.4 +90\\.0% \\(100\\)");
        assertThat(lines.get(3)).startsWith("±: half-width of the 95% interval");
        // without the test size (older results files) the cells stay bare
        assertThat(Report.terminalTable(List.of(result("s", 1, Modality.IMAGE, "mnist", Protocol.LINEAR, 0.9, 0.8))))
                .doesNotContain("±");
    }

    @Test
    void rebuildReadsResultsAndMetricsAndReplacesAtomically() throws IOException {
        Path results = dir.resolve("results");
        List<EvalResult> all = threeCheckpoints();
        for (int i = 0; i < 3; i++) {
            ResultsFile.write(results, all.subList(3 * i, 3 * i + 3));
        }
        Path metrics = dir.resolve("metrics.jsonl");
        StringBuilder m = new StringBuilder();
        for (int step = 0; step < 2500; step++) { // above MAX_LOSS_POINTS: averaged down
            m.append(String.format(Locale.ROOT, "{\"step\":%d,\"modality\":\"image\",\"loss\":%.4f,\"lr\":0.001}%n",
                    step, 3.0 / (1 + step)));
        }
        m.append("{\"kind\":\"other\"}\n{\"step\":2500,\"moda"); // another record and a half-written last line
        Files.writeString(metrics, m);
        Path html = dir.resolve("report/index.html");

        List<Report.SummaryRow> rows = Report.rebuild(results, metrics, html, NOW);
        assertThat(rows).hasSize(3);
        String page = Files.readString(html);
        assertThat(polylines(svgs(page).get("image: pretraining loss"))).containsExactly(Map.entry("image loss", Report.MAX_LOSS_POINTS));
        assertThat(page).contains("2 line(s) of").contains("not loss points");
        try (Stream<Path> s = Files.list(html.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("index.html");
        }
        Report.rebuild(results, dir.resolve("missing.jsonl"), html, NOW); // no metrics yet: still a page
        assertThat(Files.readString(html)).contains("no data yet");
    }

    @Test
    void ticksAndRanges() {
        assertThat(SvgPlot.ticks(0, 1, 5)).containsExactly(0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0);
        assertThat(SvgPlot.range(new double[] {3}, new double[0])).containsExactly(2.5, 3.5);
        assertThat(SvgPlot.range(new double[0], new double[0])).containsExactly(0, 1);
        assertThat(SvgPlot.number(1000)).isEqualTo("1000");
        assertThat(SvgPlot.number(0.25)).isEqualTo("0.25");
        assertThat(LossCurves.downsample(List.of(new SvgPlot.Point(0, 0), new SvgPlot.Point(1, 2), new SvgPlot.Point(2, 4),
                new SvgPlot.Point(3, 6)), 2)).containsExactly(new SvgPlot.Point(0.5, 1), new SvgPlot.Point(2.5, 5));
    }
}
