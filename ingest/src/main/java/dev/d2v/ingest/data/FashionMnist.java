package dev.d2v.ingest.data;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST (Zalando) from the Debian package dataset-fashion-mnist: the official gzipped IDX files under
 * /usr/share/datasets/fashion-mnist, official split 60k/10k, labels as class names.
 */
public final class FashionMnist implements Dataset {
    public static final String PACKAGE = "dataset-fashion-mnist";
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** Class names in label order 0..9, as in the Fashion-MNIST README, made folder-safe. */
    static final List<String> LABELS = List.of("t-shirt_top", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle_boot");

    private final Path sourceDir;

    public FashionMnist() {
        this(DEFAULT_DIR);
    }

    /** @param sourceDir folder with the four *-ubyte.gz files (the package's, or a copy) */
    public FashionMnist(Path sourceDir) {
        this.sourceDir = sourceDir;
    }

    @Override
    public String name() {
        return "fashion-mnist";
    }

    @Override
    public Modality modality() {
        return Modality.IMAGE;
    }

    @Override
    public String description() {
        return "Fashion-MNIST clothing 28x28 grayscale, 60k train / 10k test, 10 classes (debian " + PACKAGE + ")";
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        Idx trainImages = read("train-images-idx3-ubyte.gz");
        Idx trainLabels = read("train-labels-idx1-ubyte.gz");
        Idx testImages = read("t10k-images-idx3-ubyte.gz");
        Idx testLabels = read("t10k-labels-idx1-ubyte.gz");
        DataFiles.prepareEmpty(root);
        ctx.progress().accept("fashion-mnist: writing PNGs to " + root);
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("train", IdxImageSet.write(root, "train", trainImages, trainLabels, LABELS, ctx.limit()));
        counts.put("test", IdxImageSet.write(root, "test", testImages, testLabels, LABELS, ctx.limit()));
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, name(), modality().name().toLowerCase(), counts,
                LABELS.size(), "official Fashion-MNIST split (train-* files = train, t10k-* = test)"
                + (ctx.limit() > 0 ? "; first " + ctx.limit() + " per split in file order" : ""),
                ctx.seed(), "debian " + PACKAGE + " " + DataFiles.debianVersion(PACKAGE), Map.of(), DataFiles.now());
        m.write(root);
        ctx.progress().accept("fashion-mnist: " + counts);
        return m;
    }

    private Idx read(String file) throws IOException {
        Path f = sourceDir.resolve(file);
        if (!Files.isRegularFile(f)) {
            throw new IOException("Fashion-MNIST file " + f + " not found: install the Debian package "
                    + "(apt-get install " + PACKAGE + ")");
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f), 1 << 16)) {
            return Idx.parse(in.readAllBytes());
        } catch (IOException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
    }
}
