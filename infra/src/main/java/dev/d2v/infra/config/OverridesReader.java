package dev.d2v.infra.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code model.set} as "key=value" strings, the form of the command line's {@code --set}, from either YAML form:
 * a list of "key=value" strings, or a map whose nested maps join their keys with dots
 * ({@code {image: {multi_mask: 8}}} is "image.multi_mask=8"). Order is kept: a later override of a key wins.
 */
public final class OverridesReader extends StdDeserializer<List<String>> {

    public OverridesReader() {
        super(List.class);
    }

    @Override
    public List<String> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        // streamed, not read as a tree: a scalar keeps its text as written (5e-4, not 5.0E-4)
        List<String> out = new ArrayList<>();
        if (p.currentToken() == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (!p.currentToken().isScalarValue()) {
                    throw new IllegalArgumentException("model.set: a list holds \"key=value\" strings");
                }
                out.add(p.getText());
            }
        } else if (p.currentToken() == JsonToken.START_OBJECT) {
            flatten("", p, out);
        } else if (p.currentToken() != JsonToken.VALUE_NULL) {
            throw new IllegalArgumentException("model.set: a list of \"key=value\" or a map of key: value, got "
                    + p.getText());
        }
        return out;
    }

    /** The entries of the object whose START_OBJECT is the current token, nested keys joined with dots. */
    private static void flatten(String prefix, JsonParser p, List<String> out) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = prefix + p.currentName();
            JsonToken value = p.nextToken();
            if (value == JsonToken.START_OBJECT) {
                flatten(key + ".", p, out);
            } else if (value.isScalarValue()) {
                out.add(key + "=" + p.getText());
            } else {
                throw new IllegalArgumentException("model.set." + key + ": a value or a map");
            }
        }
    }
}
