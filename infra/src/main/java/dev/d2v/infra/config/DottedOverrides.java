package dev.d2v.infra.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Dotted-path assignments on the JSON tree of a configuration record, as the reference code's Hydra overrides:
 * {@code model.dim=192}, {@code image.flipProbability=0}. A key must name a field that exists (the error lists the
 * ones at that level); the value takes the type of the field it replaces (a number, a boolean, a string, or JSON for
 * a section), and an optional field that is unset (JSON null, e.g. a modality's own {@code lr}) takes any JSON value.
 * The caller binds the tree back to its record, whose constructor validates the result.
 */
public final class DottedOverrides {

    private static final ObjectMapper JSON = new ObjectMapper();

    private DottedOverrides() {
    }

    /**
     * Applies the assignments to tree in order (a later one for the same key wins) and returns it.
     *
     * @param example a key to quote when an assignment is not KEY=VALUE
     */
    public static ObjectNode apply(ObjectNode tree, List<String> assignments, String example) {
        for (String a : assignments) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("an override is KEY=VALUE (e.g. " + example + "), got '" + a + "'");
            }
            String key = a.substring(0, eq).trim();
            String value = a.substring(eq + 1).trim();
            String[] path = key.split("\\.");
            JsonNode node = tree;
            for (int i = 0; i < path.length - 1; i++) {
                node = child(node, path, i, false);
            }
            JsonNode old = child(node, path, path.length - 1, true);
            JsonNode parsed;
            try {
                parsed = old.isTextual() ? JSON.getNodeFactory().textNode(value) : JSON.readTree(value);
            } catch (JsonProcessingException notJson) {
                parsed = null;
            }
            if (parsed == null || parsed.isMissingNode() || old.isNumber() && !parsed.isNumber()
                    || old.isBoolean() && !parsed.isBoolean()) {
                throw new IllegalArgumentException("override " + key + ": '" + value + "' is not a "
                        + old.getNodeType().name().toLowerCase(Locale.ROOT));
            }
            ((ObjectNode) node).set(path[path.length - 1], parsed);
        }
        return tree;
    }

    /** The field path[i] of node; an unset one (JSON null) only where {@code unsetAllowed}, the assignment's own key. */
    private static JsonNode child(JsonNode node, String[] path, int i, boolean unsetAllowed) {
        JsonNode next = node.isObject() ? node.get(path[i]) : null;
        if (next == null || next.isNull() && !unsetAllowed) {
            List<String> known = new ArrayList<>();
            node.fieldNames().forEachRemaining(known::add);
            String at = String.join(".", Arrays.copyOf(path, i));
            throw new IllegalArgumentException("override: no key '" + path[i] + "'" + (at.isEmpty() ? "" : " in " + at)
                    + (known.isEmpty() ? "" : "; there: " + String.join(", ", known)));
        }
        return next;
    }
}
