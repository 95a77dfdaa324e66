package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @TempDir
    Path cache;

    @Test
    void fetchWithLimitWritesLabeledFoldersAndManifest() throws IOException {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist not installed");
        DataContext ctx = new DataContext(cache, 7, 50, null);
        Manifest m = new FashionMnist().fetch(ctx);
        Path root = ctx.root("fashion-mnist");

        assertThat(m.counts()).containsEntry("train", 50).containsEntry("test", 50);
        assertThat(m.classes()).isEqualTo(10);
        assertThat(m.source()).startsWith("debian dataset-fashion-mnist ");
        assertThat(Manifest.readIfPresent(root)).isEqualTo(m);
        assertThat(TreeFiles.count(root.resolve("train"))).isEqualTo(50);
        assertThat(TreeFiles.count(root.resolve("test"))).isEqualTo(50);
        try (var dirs = Files.list(root.resolve("train"))) {
            assertThat(dirs.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(FashionMnist.LABELS);
        }

        // each file sits under its label and decodes to the original pixels
        Idx images = readGz("t10k-images-idx3-ubyte.gz");
        Idx labels = readGz("t10k-labels-idx1-ubyte.gz");
        for (int i : new int[] {0, 17, 49}) {
            Path png = root.resolve("test").resolve(FashionMnist.LABELS.get(labels.label(i))).resolve(IdxImageSet.fileName(i));
            assertThat(png).isRegularFile();
            assertThat(GrayPng.decode(Files.readAllBytes(png))).isEqualTo(images.item(i));
        }
        assertThat(root.resolve("test").resolve(FashionMnist.LABELS.get(labels.label(50))).resolve("00050.png")).doesNotExist();

        // idempotent: a second fetch returns the stored manifest untouched
        assertThat(new FashionMnist().fetch(ctx)).isEqualTo(m);
    }

    @Test
    void missingPackageNamesTheInstallCommand() {
        DataContext ctx = new DataContext(cache, 7, 5, null);
        assertThatThrownBy(() -> new FashionMnist(cache.resolve("nowhere")).fetch(ctx))
                .isInstanceOf(IOException.class).hasMessageContaining("apt-get install dataset-fashion-mnist");
    }

    private static Idx readGz(String file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(FashionMnist.DEFAULT_DIR.resolve(file)))) {
            return Idx.parse(in.readAllBytes());
        }
    }
}
