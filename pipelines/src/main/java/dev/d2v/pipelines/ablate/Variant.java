package dev.d2v.pipelines.ablate;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One point of an ablation grid: a value for each factor, in the factors' order. {@link #name()} is how tables,
 * plots and the JSON lines name it; {@link #folder(long)} names its run folder for one seed.
 *
 * @param assignments key to value, in the order of the --vary options (possibly the key "preset")
 */
public record Variant(Map<String, String> assignments) {

    /** The name of the one variant of a sweep without --vary (seeds only). */
    public static final String DEFAULT_NAME = "default";

    public Variant {
        assignments = Collections.unmodifiableMap(new LinkedHashMap<>(assignments));
    }

    /**
     * Every combination of the factors' values, the first factor varying slowest (as nested loops in the order
     * given); no factors: the one empty variant. Two factors of the same key are refused.
     */
    public static List<Variant> grid(List<Factor> factors) {
        Set<String> keys = new HashSet<>();
        for (Factor f : factors) {
            if (!keys.add(f.key())) {
                throw new IllegalArgumentException("--vary " + f.key() + " is given twice: give its values in one option");
            }
        }
        List<Map<String, String>> partial = new ArrayList<>();
        partial.add(new LinkedHashMap<>());
        for (Factor f : factors) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> p : partial) {
                for (String v : f.values()) {
                    Map<String, String> m = new LinkedHashMap<>(p);
                    m.put(f.key(), v);
                    next.add(m);
                }
            }
            partial = next;
        }
        return partial.stream().map(Variant::new).toList();
    }

    /** "k1=v1,k2=v2", or {@link #DEFAULT_NAME} without assignments. */
    public String name() {
        if (assignments.isEmpty()) {
            return DEFAULT_NAME;
        }
        List<String> parts = new ArrayList<>();
        assignments.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(",", parts);
    }

    /** The preset this variant sets, else {@code fallback}. */
    public String preset(String fallback) {
        return assignments.getOrDefault(Factor.PRESET, fallback);
    }

    /** The checkpoint this variant starts its trunk from, or null (scratch, or no such factor). */
    public Path initFrom() {
        String v = assignments.get(Factor.INIT_FROM);
        return v == null || v.equals(Factor.SCRATCH) ? null : Path.of(v);
    }

    /** The config overrides "key=value", the preset and the trunk's start left out. */
    public List<String> overrides() {
        List<String> out = new ArrayList<>();
        assignments.forEach((k, v) -> {
            if (!Factor.PRESET.equals(k) && !Factor.INIT_FROM.equals(k)) {
                out.add(k + "=" + v);
            }
        });
        return out;
    }

    /**
     * The run folder's name for one seed: the name with every character other than letters, digits and
     * {@code . _ = , + -} replaced by '_', then "-seed" and the seed ({@code optim.lr=1e-3-seed2}).
     */
    public String folder(long seed) {
        return name().replaceAll("[^A-Za-z0-9._=,+-]", "_") + "-seed" + seed;
    }
}
