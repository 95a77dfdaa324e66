package dev.d2v.evaluate.features;

import dev.d2v.evaluate.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Features extracted once per (checkpoint, modality, task, split) and kept on disk, so that the linear probe,
 * the k-NN and a resumed evaluation all reuse one extraction. Files are {@link FeatureFile} version 1 under
 * {@code <root>/<key.relativePath()>}, written to a temporary file and renamed (a reader never sees half a file).
 * A file that fails to read (corrupt, truncated, another version or key) is logged, deleted and recomputed.
 * Safe to share between threads and processes: concurrent writers of one key each rename a complete file.
 */
public final class FeatureCache {
    private static final Logger LOG = LoggerFactory.getLogger(FeatureCache.class);

    /** Computes the features of one key on a cache miss (runs the frozen encoder over the split). */
    @FunctionalInterface
    public interface Extractor {
        FeatureSet extract() throws Exception;
    }

    /**
     * @param hits    requests served from disk
     * @param misses  requests that ran the extractor (corrupt files included)
     * @param corrupt files found unusable and recomputed
     */
    public record Stats(long hits, long misses, long corrupt) {
    }

    private final Path root;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();

    public FeatureCache(Path root) {
        this.root = root.toAbsolutePath();
    }

    public Path root() {
        return root;
    }

    /** Where the features of {@code key} live. */
    public Path path(FeatureKey key) {
        return root.resolve(key.relativePath());
    }

    /**
     * The features of {@code key}: read from disk when a valid file is there, else extracted, stored and returned.
     * An extractor failure is rethrown (wrapped unless it is an IOException or RuntimeException) and nothing is stored.
     */
    public FeatureSet get(FeatureKey key, Extractor extractor) throws IOException {
        Optional<FeatureSet> cached = lookup(key);
        if (cached.isPresent()) {
            hits.incrementAndGet();
            return cached.get();
        }
        misses.incrementAndGet();
        FeatureSet computed;
        try {
            computed = extractor.extract();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while extracting features for " + key.describe(), e);
        } catch (Exception e) {
            throw new IOException("feature extraction failed for " + key.describe() + ": " + e.getMessage(), e);
        }
        put(key, computed);
        return computed;
    }

    /** The cached features if a valid file is there; an unusable file is logged, counted, deleted and reported absent. */
    public Optional<FeatureSet> lookup(FeatureKey key) throws IOException {
        Path file = path(key);
        try {
            return Optional.of(FeatureFile.read(file, key));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (FeatureFileException e) {
            corrupt.incrementAndGet();
            LOG.warn("feature cache: {}; recomputing {}", e.getMessage(), key.describe());
            Files.deleteIfExists(file);
            return Optional.empty();
        }
    }

    /** Stores {@code set} for {@code key}: temporary file in the same folder, then an atomic rename over any old file. */
    public void put(FeatureKey key, FeatureSet set) throws IOException {
        Path file = path(key);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            FeatureFile.write(tmp, key, set);
            AtomicFiles.move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Deletes every cached feature of one checkpoint (retention); returns the number of files removed. */
    public int removeCheckpoint(String checkpointId) throws IOException {
        Path dir = root.resolve(FeatureKey.component(checkpointId));
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int[] removed = {0};
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    if (Files.isRegularFile(p)) {
                        removed[0]++;
                    }
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return removed[0];
    }

    public Stats stats() {
        return new Stats(hits.get(), misses.get(), corrupt.get());
    }
}
