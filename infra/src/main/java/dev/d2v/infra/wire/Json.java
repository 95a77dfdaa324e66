package dev.d2v.infra.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shared reading and writing of the versioned JSON events. Events are built and read as trees, field by field,
 * so that each version has its own explicit decoder and a missing or mistyped field names itself.
 * Unknown extra fields are ignored: adding an optional field does not need a new version.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static ObjectNode object(String kind, int version) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("version", version);
        n.put("kind", kind);
        return n;
    }

    static byte[] bytes(ObjectNode n) {
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }

    /** Parses {@code json}, checks kind and returns the version field; the caller dispatches on it. */
    static JsonNode parse(byte[] json, String kind) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new WireFormatException("malformed " + kind + " event JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new WireFormatException("unreadable " + kind + " event: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new WireFormatException("malformed " + kind + " event JSON: expected an object, got "
                    + (n == null ? "nothing" : n.getNodeType()));
        }
        JsonNode k = n.get("kind");
        if (k != null && !k.asText().equals(kind)) {
            throw new WireFormatException("expected a " + kind + " event but 'kind' is '" + k.asText() + "' (wrong topic?)");
        }
        JsonNode v = n.get("version");
        if (v == null || !v.canConvertToExactIntegral() || !v.canConvertToInt()) {
            throw new WireFormatException(kind + " event has no integer 'version' field");
        }
        return n;
    }

    static WireFormatException unknownVersion(String kind, int version, int current) {
        return new WireFormatException("unknown " + kind + " event version " + version + " (this build reads " + current + ")");
    }

    static JsonNode required(JsonNode n, String field, String kind) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new WireFormatException(kind + " event is missing field '" + field + "'");
        }
        return v;
    }

    static String text(JsonNode n, String field, String kind) {
        JsonNode v = required(n, field, kind);
        if (!v.isTextual()) {
            throw typeError(field, "a string", v, kind);
        }
        return v.asText();
    }

    static long longValue(JsonNode n, String field, String kind) {
        return longOf(required(n, field, kind), field, kind);
    }

    private static long longOf(JsonNode v, String field, String kind) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw typeError(field, "a 64-bit integer", v, kind);
        }
        return v.asLong();
    }

    /** A number, or NaN for null/absent (JSON has no NaN). */
    static double doubleOrNaN(JsonNode n, String field, String kind) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return Double.NaN;
        }
        if (!v.isNumber()) {
            throw typeError(field, "a number or null", v, kind);
        }
        return v.asDouble();
    }

    static void putDouble(ObjectNode n, String field, double value) {
        if (Double.isFinite(value)) {
            n.put(field, value);
        } else {
            n.putNull(field); // NaN (and inf) as null: JSON has neither
        }
    }

    static Instant instant(JsonNode n, String field, String kind) {
        String s = text(n, field, kind);
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new WireFormatException(kind + " event field '" + field + "' is not an ISO-8601 instant: '" + s + "'", e);
        }
    }

    /** A 64-bit hash as 16 lower-case hex digits (JSON numbers above 2^53 lose precision in many readers). */
    static String hex64(long h) {
        return String.format("%016x", h);
    }

    static long parseHex64(JsonNode n, String field, String kind) {
        String s = text(n, field, kind);
        if (!s.matches("[0-9a-fA-F]{1,16}")) {
            throw new WireFormatException(kind + " event field '" + field + "' must be up to 16 hex digits, got '" + s + "'");
        }
        return Long.parseUnsignedLong(s, 16);
    }

    static Map<String, Long> longMap(JsonNode n, String field, String kind) {
        JsonNode obj = required(n, field, kind);
        if (!obj.isObject()) {
            throw typeError(field, "an object", obj, kind);
        }
        Map<String, Long> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), longOf(e.getValue(), field + "." + e.getKey(), kind));
        }
        return out;
    }

    /** Values may be null (NaN). */
    static Map<String, Double> doubleMap(JsonNode n, String field, String kind) {
        JsonNode obj = n.get(field);
        Map<String, Double> out = new TreeMap<>();
        if (obj == null || obj.isNull()) {
            return out;
        }
        if (!obj.isObject()) {
            throw typeError(field, "an object", obj, kind);
        }
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            out.put(key, doubleOrNaN(obj, key, kind));
        }
        return out;
    }

    private static WireFormatException typeError(String field, String expected, JsonNode got, String kind) {
        return new WireFormatException(kind + " event field '" + field + "' must be " + expected + ", got " + got.getNodeType()
                + " " + abbreviate(got.toString()));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
