package dev.d2v.pipelines.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One benchmark figure, printed as one JSON object per line: {@code name}, {@code value}, {@code unit}, then its
 * parameters (strings or numbers) as further keys, e.g.
 * {@code {"name":"records_per_s_per_core","value":812.4,"unit":"records/s","modality":"audio","stage":"transform"}}.
 * The names are stable (the README's Performance section); parameters may grow.
 *
 * @param params what the figure was measured under (preset, modality, batch_size, threads, ...), in print order
 */
public record BenchResult(String name, double value, String unit, Map<String, Object> params) {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN).build();

    public BenchResult {
        params = new LinkedHashMap<>(params);
    }

    /** The JSON line; numbers to 4 significant digits, never in exponent notation (1219000, 355.8, 0.02489). */
    public String json() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("value", round4(value));
        out.put("unit", unit);
        params.forEach((k, v) -> out.put(k, v instanceof Double || v instanceof Float ? round4(((Number) v).doubleValue()) : v));
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write benchmark result " + name, e);
        }
    }

    /** Shares (or any values) kept in their order, each rounded to 3 decimals, for a JSON parameter. */
    static Map<String, Object> shares3(Map<String, Double> values) {
        Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(k, Math.round(v * 1000) / 1000.0));
        return out;
    }

    /** x to 4 significant digits; NaN and infinities become null (JSON has no such numbers). */
    static BigDecimal round4(double x) {
        if (!Double.isFinite(x)) {
            return null;
        }
        return new BigDecimal(x).round(new MathContext(4)).stripTrailingZeros();
    }
}
