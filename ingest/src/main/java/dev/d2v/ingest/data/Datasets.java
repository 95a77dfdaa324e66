package dev.d2v.ingest.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The project's datasets by name: what {@code d2v data fetch <name>} and {@code d2v data list} offer. */
public final class Datasets {
    private Datasets() {
    }

    /**
     * Dataset factories in listing order. The audio sets ("spoken-digits", "spoken-phrases", classes
     * SpokenDigits and SpokenPhrases in this package) are found by class name, so this registry compiles
     * before they exist; once they are in the package they may be added here directly.
     */
    private static List<Supplier<Dataset>> factories() {
        List<Supplier<Dataset>> f = new ArrayList<>(List.of(Mnist::new, FashionMnist::new, WordNet::new, Austen::new));
        for (String cls : List.of("SpokenDigits", "SpokenPhrases")) {
            Supplier<Dataset> s = byClassName(Datasets.class.getPackageName() + "." + cls);
            if (s != null) {
                f.add(s);
            }
        }
        return f;
    }

    private static Supplier<Dataset> byClassName(String cls) {
        try {
            Class<? extends Dataset> c = Class.forName(cls).asSubclass(Dataset.class);
            var ctor = c.getConstructor();
            return () -> {
                try {
                    return ctor.newInstance();
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot create dataset " + cls + ": " + e, e);
                }
            };
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            return null; // not in this build
        }
    }

    /** Every dataset, fresh instances with their default sources. */
    public static List<Dataset> all() {
        return factories().stream().map(Supplier::get).toList();
    }

    public static List<String> names() {
        return all().stream().map(Dataset::name).toList();
    }

    /** The dataset called {@code name}; an unknown name fails listing the known ones. */
    public static Dataset byName(String name) {
        List<Dataset> all = all();
        return all.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown dataset '" + name + "'; known: "
                        + all.stream().map(Dataset::name).collect(Collectors.joining(", "))));
    }
}
