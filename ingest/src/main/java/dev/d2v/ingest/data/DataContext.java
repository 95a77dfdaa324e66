package dev.d2v.ingest.data;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Where datasets live and how they are generated.
 *
 * @param cacheDir  root of the dataset cache (config data.cacheDir)
 * @param seed      seed of every generated choice (splits, voices, jitter): same seed, same bytes
 * @param limit     optional cap on samples per split for quick subsets (0 = everything); CI uses small ones
 * @param progress  receives human-readable progress lines
 */
public record DataContext(Path cacheDir, long seed, int limit, Consumer<String> progress) {
    public DataContext {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0");
        }
        progress = progress == null ? s -> { } : progress;
        // absolute, so that child processes run in another folder (npm pack, sox) see the same paths
        cacheDir = cacheDir.toAbsolutePath().normalize();
    }

    public Path root(String datasetName) {
        return limit == 0 ? cacheDir.resolve(datasetName) : cacheDir.resolve(datasetName + "-limit" + limit);
    }
}
