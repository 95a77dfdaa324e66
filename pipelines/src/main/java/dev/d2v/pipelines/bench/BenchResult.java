package dev.d2v.pipelines.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One benchmark figure, printed as one JSON object per line: {@code name}, {@code value}, {@code unit}, then
 * its parameters (strings or numbers) as further keys, e.g.
 * {@code {"name":"records_per_s_per_core","value":812.4,"unit":"records/s","modality":"audio","stage":"transform"}}.
 */
public record BenchResult(String name, double value, String unit, Map<String, Object> params) {

    public BenchResult {
        params = new LinkedHashMap<>(params);
    }

    public String toJson() {
        StringBuilder b = new StringBuilder("{");
        b.append(q("name")).append(':').append(q(name)).append(',');
        b.append(q("value")).append(':').append(number(value)).append(',');
        b.append(q("unit")).append(':').append(q(unit));
        for (Map.Entry<String, Object> e : params.entrySet()) {
            b.append(',').append(q(e.getKey())).append(':')
                    .append(e.getValue() instanceof Number n ? number(n.doubleValue()) : q(String.valueOf(e.getValue())));
        }
        return b.append('}').toString();
    }

    private static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "null";
        }
        // 4 significant digits, never in exponent notation: 1219000, 355.8, 0.02489
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
