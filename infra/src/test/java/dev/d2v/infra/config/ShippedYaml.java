package dev.d2v.infra.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The shipped YAML files show each default as a commented-out line "# key: value" at the key's indentation; these
 * helpers uncomment them, so that a test can load what the comments claim and compare it with the records' defaults.
 */
public final class ShippedYaml {
    private static final Pattern DEFAULT_LINE = Pattern.compile("^(\\s*)# ([A-Za-z][A-Za-z0-9]*:( .*)?)$");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ShippedYaml() {
    }

    /** The file with every "# key: value" line uncommented. */
    public static String uncommented(Path file) {
        try {
            StringBuilder out = new StringBuilder();
            for (String line : Files.readAllLines(file)) {
                out.append(DEFAULT_LINE.matcher(line).replaceFirst("$1$2")).append('\n');
            }
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every key path of a YAML document ("kafka.port", "batch.image"), maps of free keys counted as one leaf. */
    public static TreeSet<String> keyPaths(String yaml, Set<String> freeMaps) {
        try {
            TreeSet<String> out = new TreeSet<>();
            collect("", YAML.readTree(yaml), freeMaps, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void collect(String prefix, JsonNode node, Set<String> freeMaps, TreeSet<String> out) {
        if (!node.isObject() || freeMaps.contains(prefix)) {
            out.add(prefix);
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            collect(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), freeMaps, out);
        }
    }
}
