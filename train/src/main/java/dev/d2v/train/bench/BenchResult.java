package dev.d2v.train.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One benchmark figure, printed as one JSON object per line: {"name", "value", "unit", then the parameters}. The names
 * are stable (train/TRAIN.md "Benchmarks"); parameters may grow.
 *
 * @param params what the figure was measured under (preset, modality, batch_size, threads, ...), in print order
 */
public record BenchResult(String name, double value, String unit, Map<String, Object> params) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public BenchResult {
        params = new LinkedHashMap<>(params);
    }

    /** {"name": ..., "value": ..., "unit": ..., params...} on one line; value rounded to 4 significant digits. */
    public String json() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("value", round4(value));
        out.put("unit", unit);
        params.forEach((k, v) -> out.put(k, v instanceof Double d ? round4(d) : v));
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write benchmark result " + name, e);
        }
    }

    /** x to 4 significant digits (NaN and infinities as they are: the test catches them). */
    static double round4(double x) {
        if (x == 0 || !Double.isFinite(x)) {
            return x;
        }
        return new java.math.BigDecimal(x).round(new java.math.MathContext(4)).doubleValue();
    }
}
