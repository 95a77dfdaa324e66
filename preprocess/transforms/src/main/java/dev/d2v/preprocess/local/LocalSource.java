package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.Sources;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Dataset;
import dev.d2v.ingest.data.Datasets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The samples of one modality from a dataset of ingest's registry or a folder/JSONL file, read with ingest's own
 * walker ({@link Sources}), so offline training and probes see exactly the ids, labels and splits that ingest
 * would put on Kafka. Bytes stay lazy: a walk over a large set holds one file at a time.
 *
 * @param name     the dataset or folder name (the sample id prefix)
 * @param modality the modality kept (items of other modalities in a folder are left out)
 * @param items    in the walker's stable order
 * @param labels   the label index over every item of the source, before any split filter, so train and test of
 *                 one source share ids
 */
public record LocalSource(String name, Modality modality, List<RawItem> items, LabelIndex labels) {

    /** Split names that {@link #split} understands, besides "train" and "test" as given by the items. */
    public static final String ALL = "all";
    public static final String UNLABELED = "unlabeled";

    public LocalSource {
        items = List.copyOf(items);
    }

    /**
     * What {@code --data} names: a dataset of ingest's registry (fetched into {@code ctx}'s cache if missing, with
     * ingest's own message when a system package is missing), else a folder or a JSONL file.
     *
     * @param modality required for a folder holding several modalities; null = the dataset's, or the folder's
     *                 most common one
     */
    public static LocalSource open(String data, Modality modality, DataContext ctx) throws IOException {
        if (Datasets.names().contains(data)) {
            return dataset(data, ctx);
        }
        Path p = Path.of(data);
        if (!Files.exists(p)) {
            throw new IOException("'" + data + "' is neither a dataset (" + String.join(", ", Datasets.names())
                    + ") nor an existing folder or JSONL file");
        }
        return path(p, modality);
    }

    /** A dataset by name, fetched into the cache first (idempotent). */
    public static LocalSource dataset(String name, DataContext ctx) throws IOException {
        Dataset d = Datasets.byName(name);
        try {
            d.fetch(ctx);
        } catch (IOException e) {
            throw new IOException("fetching " + d.name() + " failed: " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new IOException("fetching " + d.name() + " failed: " + e.getCause().getMessage(), e);
        }
        return of(d.name(), d.modality(), walk(d.root(ctx), d.name()));
    }

    /** A folder in the labeled layout, any folder of files, or one JSONL file. */
    public static LocalSource path(Path path, Modality modality) throws IOException {
        Path abs = path.toAbsolutePath().normalize();
        String name = String.valueOf(abs.getFileName()).replaceFirst("\\.jsonl$", "");
        List<RawItem> all = walk(abs, name);
        Modality m = modality != null ? modality : mostCommon(all, abs);
        return of(name, m, all);
    }

    private static List<RawItem> walk(Path root, String name) throws IOException {
        try (Stream<RawItem> s = Sources.folder(root, name)) {
            return s.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static Modality mostCommon(List<RawItem> items, Path where) throws IOException {
        return items.stream().collect(Collectors.groupingBy(RawItem::modality, Collectors.counting()))
                .entrySet().stream()
                .max(Map.Entry.<Modality, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey(
                        Comparator.reverseOrder())))
                .map(Map.Entry::getKey)
                .orElseThrow(() -> new IOException("no png/jpg, wav, txt or jsonl files under " + where));
    }

    static LocalSource of(String name, Modality modality, List<RawItem> all) {
        List<RawItem> kept = all.stream().filter(i -> i.modality() == modality).toList();
        LabelIndex labels = LabelIndex.of(kept.stream().map(RawItem::label).flatMap(Optional::stream).toList());
        return new LocalSource(name, modality, kept, labels);
    }

    /**
     * The items of one split: "train" or "test" as the layout gives them, {@value #UNLABELED} for items without a
     * split (unlabeled/ folders, unlabeled.jsonl), {@value #ALL} for everything. The label index is kept.
     */
    public LocalSource split(String split) {
        Function<RawItem, Boolean> keep = switch (split) {
            case ALL -> i -> true;
            case UNLABELED -> i -> i.split().isEmpty() || i.split().get().equals(UNLABELED);
            default -> i -> i.split().filter(split::equals).isPresent();
        };
        return new LocalSource(name, modality, items.stream().filter(keep::apply).toList(), labels);
    }

    /** The first {@code n} items (0 = all), for quick runs. */
    public LocalSource limit(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + n);
        }
        return n == 0 || n >= items.size() ? this : new LocalSource(name, modality, items.subList(0, n), labels);
    }

    /**
     * {@code n} items (0 = all) drawn by a seeded shuffle and kept in source order: a probe subset that spans the
     * labels even when the source is ordered by label (the first n items would not).
     */
    public LocalSource sample(int n, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("sample size must be >= 0, got " + n);
        }
        if (n == 0 || n >= items.size()) {
            return this;
        }
        int[] order = IntStream.range(0, items.size()).toArray();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {                  // Fisher-Yates
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] chosen = Arrays.copyOf(order, n);
        Arrays.sort(chosen);
        return new LocalSource(name, modality, Arrays.stream(chosen).mapToObj(items::get).toList(), labels);
    }

    /** True when some item has the split "train". */
    public boolean hasSplit(String split) {
        return items.stream().anyMatch(i -> i.split().filter(split::equals).isPresent());
    }

    public int size() {
        return items.size();
    }
}
