package dev.d2v.ingest.data;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A real dataset obtained from a package registry (npm, Debian) or generated from packaged tools, stored in
 * the cache in the conventional labeled-folder layout that users can bring for their own data:
 *
 * <pre>
 * &lt;cache&gt;/&lt;name&gt;/manifest.json                          counts, split rule, seed, tool versions
 * &lt;cache&gt;/&lt;name&gt;/{train,test}/&lt;label&gt;/&lt;file&gt;            png (image) or wav (audio)
 * &lt;cache&gt;/&lt;name&gt;/train.jsonl, test.jsonl               text: {"text": ..., "label": ...} per line
 * &lt;cache&gt;/&lt;name&gt;/unlabeled/...                        unlabeled pretraining material, where a set has it
 * </pre>
 *
 * Ingest reads this layout with the same walker it uses for a user's folder, so a dataset and a user's own
 * data take the same path into Kafka. Generation is deterministic for a given seed.
 */
public interface Dataset {

    /** Short name used on the command line and as the cache folder: "mnist", "fashion-mnist", ... */
    String name();

    Modality modality();

    /** One line for `d2v data list`. */
    String description();

    /**
     * Writes the dataset into {@code ctx.root(name())} unless a complete copy is already there (a manifest
     * is written last, so its presence means complete). Idempotent; returns the manifest.
     */
    default Manifest fetch(DataContext ctx) throws IOException {
        Path root = root(ctx);
        Manifest done = Manifest.readIfPresent(root);
        return done != null ? done : generate(ctx, root);
    }

    /**
     * Writes the dataset into {@code root}; called by {@link #fetch} only when no complete copy is there.
     * Writes the manifest last and returns it.
     */
    Manifest generate(DataContext ctx, Path root) throws IOException;

    /** Folder holding the labeled layout once fetched. */
    default Path root(DataContext ctx) {
        return ctx.root(name());
    }
}
