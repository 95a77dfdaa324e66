package dev.d2v.evaluate.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.evaluate.report.SvgPlot.Point;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pretraining loss curves of a run, read from the trainer's metrics JSONL for the report: every line that is a
 * JSON object with a numeric {@code step}, a string {@code modality} and a numeric {@code loss} is a point; other
 * fields are ignored, and other lines (a different record kind, a half-written last line while the trainer appends) are counted and
 * skipped.
 *
 * @param lossByModality modality id -&gt; (step, loss) points in step order
 * @param skippedLines   lines that were not loss points
 */
public record LossCurves(Map<String, List<Point>> lossByModality, int skippedLines) {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static LossCurves empty() {
        return new LossCurves(Map.of(), 0);
    }

    /** Reads {@code file}; a missing file is an empty log (the trainer has not written yet). */
    public static LossCurves read(Path file) throws IOException {
        Map<String, List<Point>> curves = new TreeMap<>();
        int skipped = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = MAPPER.readTree(line);
                } catch (IOException e) {
                    skipped++;
                    continue;
                }
                JsonNode step = n == null ? null : n.get("step");
                JsonNode modality = n == null ? null : n.get("modality");
                JsonNode loss = n == null ? null : n.get("loss");
                if (step == null || !step.isNumber() || modality == null || !modality.isTextual()
                        || loss == null || !loss.isNumber() || !Double.isFinite(loss.asDouble())) {
                    skipped++;
                    continue;
                }
                curves.computeIfAbsent(modality.asText(), k -> new ArrayList<>()).add(new Point(step.asDouble(), loss.asDouble()));
            }
        } catch (NoSuchFileException e) {
            return empty();
        }
        curves.values().forEach(l -> l.sort(Comparator.comparingDouble(Point::x)));
        return new LossCurves(curves, skipped);
    }

    /**
     * At most {@code max} points: consecutive runs of points are averaged (x and y) into one, so that a curve of
     * 100k steps stays a light SVG. Curves of at most {@code max} points are returned unchanged.
     */
    public static List<Point> downsample(List<Point> points, int max) {
        if (points.size() <= max) {
            return points;
        }
        List<Point> out = new ArrayList<>(max);
        for (int b = 0; b < max; b++) {
            int from = (int) ((long) b * points.size() / max);
            int to = (int) ((long) (b + 1) * points.size() / max);
            double sx = 0;
            double sy = 0;
            for (int i = from; i < to; i++) {
                sx += points.get(i).x();
                sy += points.get(i).y();
            }
            out.add(new Point(sx / (to - from), sy / (to - from)));
        }
        return out;
    }
}
