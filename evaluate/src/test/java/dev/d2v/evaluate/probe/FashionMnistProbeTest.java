package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.d2v.ingest.data.FashionMnist;
import dev.d2v.ingest.data.Idx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Raw-pixel logistic regression on Fashion-MNIST: the sanity figure and the raw-feature baseline of the README.
 * Reads the official IDX files of the Debian package dataset-fashion-mnist (skipped when not installed; another
 * folder with the four files via -Dd2v.fashionMnistDir=...). Trains on the first N train images
 * (-Dd2v.fashionMnistTrain=N, default 5000, ~40 s here; 0 = all 60000) and tests on the whole official test set.
 */
class FashionMnistProbeTest {

    @Test
    void rawPixelLogisticRegression() throws IOException {
        Path dir = Path.of(System.getProperty("d2v.fashionMnistDir", FashionMnist.DEFAULT_DIR.toString()));
        assumeTrue(Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed (apt-get install " + FashionMnist.PACKAGE + ")");
        int limit = Integer.getInteger("d2v.fashionMnistTrain", 5_000);
        float[][] trainX = pixels(read(dir, "train-images-idx3-ubyte.gz"), limit);
        int[] trainY = labels(read(dir, "train-labels-idx1-ubyte.gz"), limit);
        float[][] testX = pixels(read(dir, "t10k-images-idx3-ubyte.gz"), 0);
        int[] testY = labels(read(dir, "t10k-labels-idx1-ubyte.gz"), 0);

        LinearModel model = LinearProbe.fit(trainX, trainY, 10, LinearProbe.Config.defaults());
        double acc = model.accuracy(testX, testY);
        System.out.printf("{\"name\":\"fashion_mnist_raw_pixel_logreg_accuracy\",\"value\":%.4f,\"unit\":\"fraction\","
                        + "\"train\":%d,\"test\":%d,\"l2\":%s,\"iterations\":%d,\"converged\":%s,\"fit_s\":%.1f,"
                        + "\"validation\":\"%s\"}%n",
                acc, trainX.length, testX.length, model.l2(), model.iterations(), model.converged(), model.fitSeconds(),
                model.validationAccuracy());
        // measured here: 82.3% from 5k train rows, 83.5% from 10k, 84.35% from all 60k (official benchmark: ~84%)
        assertThat(acc).isGreaterThan(trainX.length >= 60_000 ? 0.83 : 0.80);
    }

    private static Idx read(Path dir, String file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve(file)))) {
            return Idx.parse(in.readAllBytes());
        }
    }

    /** [N, 784] pixel values / 255. */
    private static float[][] pixels(Idx images, int limit) {
        int n = limit > 0 ? Math.min(limit, images.count()) : images.count();
        int size = images.itemSize();
        float[][] x = new float[n][size];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < size; j++) {
                x[i][j] = (images.data()[i * size + j] & 0xFF) / 255f;
            }
        }
        return x;
    }

    private static int[] labels(Idx labels, int limit) {
        int n = limit > 0 ? Math.min(limit, labels.count()) : labels.count();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = labels.label(i);
        }
        return y;
    }
}
