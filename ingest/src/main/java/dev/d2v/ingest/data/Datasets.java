package dev.d2v.ingest.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The project's datasets by name: what {@code d2v data fetch <name>} and {@code d2v data list} offer. */
public final class Datasets {
    private Datasets() {
    }

    /** Dataset factories in listing order. */
    private static List<Supplier<Dataset>> factories() {
        return List.of(Mnist::new, FashionMnist::new, WordNet::new, Austen::new, SpokenDigits::new, SpokenPhrases::new,
                SpokenDigitPhrases::new);
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

    /**
     * Fetches (or generates) d into the cache, once: a dataset already there is only checked.
     *
     * @throws IllegalArgumentException when it cannot be had, with the reason (a Debian package not installed, no npm)
     */
    public static Manifest fetch(Dataset d, DataContext ctx) {
        try {
            return d.fetch(ctx);
        } catch (IOException e) {
            throw new IllegalArgumentException("fetching " + d.name() + " failed: " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException("fetching " + d.name() + " failed: " + e.getCause().getMessage(), e);
        }
    }
}
