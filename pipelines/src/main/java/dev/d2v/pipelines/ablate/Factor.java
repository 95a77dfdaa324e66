package dev.d2v.pipelines.ablate;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One factor of an ablation: a config key and the values it takes, from {@code --vary KEY=V1,V2,...}. The key is a
 * dotted override key of the model config ({@code image.targets.average_top_k_layers}, {@code optim.lr}) or
 * {@link #PRESET}, which picks the preset the other overrides apply to, or {@link #INIT_FROM}, where the trunk starts
 * (cross-modality transfer against scratch). Whether the key exists is checked against the config later
 * ({@link AblationPlan}); here only the form.
 *
 * @param key    the dotted key or "preset"
 * @param values in the order given, at least one, no repeats
 */
public record Factor(String key, List<String> values) {

    /** The key that varies the preset itself rather than a field of it. */
    public static final String PRESET = "preset";
    /** The key that varies where a run's trunk starts: {@link #SCRATCH} or a checkpoint folder (pretrain --init-from). */
    public static final String INIT_FROM = "init_from";
    /** The {@link #INIT_FROM} value of a run from its own initialisation. */
    public static final String SCRATCH = "scratch";

    public Factor {
        if (key == null || key.isBlank() || !key.equals(key.trim()) || key.contains("=")) {
            throw new IllegalArgumentException("--vary: a key is a dotted config key or 'preset', got '" + key + "'");
        }
        values = List.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("--vary " + key + ": no values");
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String v : values) {
            if (v.isBlank()) {
                throw new IllegalArgumentException("--vary " + key + ": an empty value in " + String.join(",", values));
            }
            if (!seen.add(v)) {
                throw new IllegalArgumentException("--vary " + key + ": value '" + v + "' given twice");
            }
        }
    }

    /**
     * {@code KEY=V1,V2,...}: the key before the first '=', the values split at commas and trimmed (a value cannot hold
     * a comma, so a JSON section is no value here; fix it with --set instead).
     */
    public static Factor parse(String option) {
        int eq = option.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("--vary is KEY=V1,V2,... (e.g. optim.lr=5e-4,1e-3), got '" + option + "'");
        }
        List<String> values = new ArrayList<>();
        for (String v : option.substring(eq + 1).split(",", -1)) {
            values.add(v.trim());
        }
        return new Factor(option.substring(0, eq).trim(), values);
    }

    public boolean isPreset() {
        return PRESET.equals(key);
    }

    public boolean isInitFrom() {
        return INIT_FROM.equals(key);
    }
}
