package dev.d2v.evaluate.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KnnTest {

    @Test
    void separableBlobsReachFullAccuracyWhateverTheScale() {
        Synthetic.Task train = Synthetic.blobs(2000, 32, 8, 10, 1, 1);
        Synthetic.Task test = Synthetic.blobs(500, 32, 8, 10, 1, 2);
        Random r = new Random(3);
        for (float[] row : test.x()) { // cosine similarity ignores each row's length
            float s = 0.1f + 10 * r.nextFloat();
            for (int j = 0; j < row.length; j++) {
                row[j] *= s;
            }
        }
        assertThat(Knn.accuracy(train.x(), train.y(), test.x(), test.y(), 8, Knn.Config.defaults())).isEqualTo(1.0);
    }

    /**
     * Two classes that differ only along a direction every row shares (feature 0 = 95 or 105, the other 31 features
     * class-free noise of std 0.5): to the cosine every row points the same way, so plain k-NN is near chance; centred
     * on the training mean, feature 0 is -5 or +5 against noise of norm 2.8, and the classes point apart.
     */
    @Test
    void centringRecoversClassesThatDifferAlongASharedDirection() {
        Synthetic.Task train = alongShared(2000, 1);
        Synthetic.Task test = alongShared(500, 2);
        double plain = Knn.accuracy(train.x(), train.y(), test.x(), test.y(), 2, Knn.Config.defaults());
        float[][][] c = Knn.centred(train.x(), test.x());
        double centred = Knn.accuracy(c[0], train.y(), c[1], test.y(), 2, Knn.Config.defaults());
        assertThat(plain).isLessThan(0.65);
        assertThat(centred).isGreaterThan(0.95);
        assertThat(train.x()[0][0]).as("inputs unchanged").isGreaterThanOrEqualTo(95);
        double mean = 0;
        for (float[] row : c[0]) {
            mean += row[0];
        }
        assertThat(mean / c[0].length).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-3));
    }

    private static Synthetic.Task alongShared(int n, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][32];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            x[i][0] = 95 + 10 * y[i];
            for (int j = 1; j < 32; j++) {
                x[i][j] = (float) (0.5 * r.nextGaussian());
            }
        }
        return new Synthetic.Task(x, y);
    }

    @Test
    void weightsFollowExpSimilarityOverTemperature() {
        // query (1, 0): one class-0 neighbour at cosine 1, two class-1 neighbours at cosine 0.6
        float[][] bank = {{1, 0}, {0.6f, 0.8f}, {0.6f, -0.8f}, {-1, 0}};
        int[] labels = {0, 1, 1, 1};
        float[] query = {2, 0};
        // T = 0.07: exp(1/0.07) = 1.6e6 > 2 exp(0.6/0.07) = 1.0e4 -> class 0
        assertThat(Knn.fit(bank, labels, 2, new Knn.Config(3, 0.07, 1)).predict(query)).isEqualTo(0);
        // T = 10: exp(0.1) = 1.105 < 2 exp(0.06) = 2.124 -> class 1
        assertThat(Knn.fit(bank, labels, 2, new Knn.Config(3, 10, 1)).predict(query)).isEqualTo(1);
        // k = 1: only the nearest votes
        assertThat(Knn.fit(bank, labels, 2, new Knn.Config(1, 10, 1)).predict(query)).isEqualTo(0);
    }

    @Test
    void agreesWithABruteForceReference() {
        Synthetic.Task train = Synthetic.blobs(1300, 24, 6, 1.0, 1, 4); // overlapping classes: votes are close
        Synthetic.Task test = Synthetic.blobs(300, 24, 6, 1.0, 1, 5);
        for (int k : new int[] {1, 5, 20, 5000}) { // k above N means every row votes
            Knn.Config config = new Knn.Config(k, 0.07, 2);
            int[] fast = Knn.fit(train.x(), train.y(), 6, config).predict(test.x());
            for (int q = 0; q < test.x().length; q++) {
                assertThat(fast[q]).as("k=%d query %d", k, q).isEqualTo(reference(train, test.x()[q], 6, config));
            }
        }
    }

    @Test
    void pacedPredictionCallsThePacePerBlockOfQueriesAndPredictsTheSame() {
        Synthetic.Task train = Synthetic.blobs(1300, 24, 6, 1.0, 1, 4);
        Synthetic.Task test = Synthetic.blobs(300, 24, 6, 1.0, 1, 5);
        Knn knn = Knn.fit(train.x(), train.y(), 6, new Knn.Config(20, 0.07, 2, ProbeBackend.JAVA));
        int[] calls = {0};
        int[] paced = knn.predict(test.x(), () -> calls[0]++);
        assertThat(paced).containsExactly(knn.predict(test.x()));
        // blocks of 64 queries per thread, 2 threads: 128 + 128 + 44
        assertThat(calls[0]).isEqualTo((300 + 2 * Knn.QUERY_BLOCK - 1) / (2 * Knn.QUERY_BLOCK)).isEqualTo(3);

        Knn torch = Knn.fit(train.x(), train.y(), 6, new Knn.Config(20, 0.07, 2, ProbeBackend.TORCH));
        Synthetic.Task many = Synthetic.blobs(1100, 24, 6, 1.0, 1, 7);
        int[] torchCalls = {0};
        int[] torchPaced = torch.predict(many.x(), () -> torchCalls[0]++);
        assertThat(torchPaced).containsExactly(torch.predict(many.x()));
        // blocks of 512 queries: 512 + 512 + 76
        assertThat(torchCalls[0]).isEqualTo(3);
    }

    @Test
    void torchBackendPredictsExactlyAsThePlainJavaOne() {
        Synthetic.Task train = Synthetic.blobs(3000, 40, 7, 0.7, 1, 12); // overlapping classes: close votes
        Synthetic.Task test = Synthetic.blobs(1200, 40, 7, 0.7, 1, 13);
        // duplicated bank rows: equal similarities, resolved by the lower index on both backends
        for (int i = 0; i < 30; i++) {
            train.x()[2000 + i] = train.x()[i].clone();
        }
        for (int k : new int[] {1, 20, 200}) {
            int[] java = Knn.fit(train.x(), train.y(), 7, new Knn.Config(k, 0.07, 2, ProbeBackend.JAVA)).predict(test.x());
            int[] torch = Knn.fit(train.x(), train.y(), 7, new Knn.Config(k, 0.07, 2, ProbeBackend.TORCH)).predict(test.x());
            assertThat(torch).as("k=%d", k).containsExactly(java);
        }
    }

    @Test
    void nearestNeighbourOfATrainingRowIsItself() {
        Synthetic.Task train = Synthetic.blobs(700, 16, 5, 0.5, 1, 6);
        assertThat(Knn.accuracy(train.x(), train.y(), train.x(), train.y(), 5, Knn.Config.defaults().withK(1))).isEqualTo(1.0);
    }

    @Test
    void rejectsMismatchedShapes() {
        Knn knn = Knn.fit(new float[][] {{1, 0}, {0, 1}}, new int[] {0, 1}, 2, Knn.Config.defaults());
        assertThatThrownBy(() -> knn.predict(new float[] {1, 0, 0})).hasMessageContaining("3 dims, the k-NN bank has 2");
        assertThatThrownBy(() -> new Knn.Config(0, 0.07, 1)).hasMessageContaining("k must be >= 1");
    }

    /** Sort every training row by (cosine desc, index asc), take k, vote exp(sim / T): in double. */
    private static int reference(Synthetic.Task train, float[] query, int classes, Knn.Config config) {
        float[] q = Knn.normalized(query);
        double[] sim = new double[train.x().length];
        for (int i = 0; i < sim.length; i++) {
            float[] b = Knn.normalized(train.x()[i]);
            float s = 0;
            for (int j = 0; j < q.length; j++) {
                s += q[j] * b[j];
            }
            sim[i] = s;
        }
        int[] order = IntStream.range(0, sim.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -sim[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).limit(config.k()).toArray();
        double[] votes = new double[classes];
        for (int i : order) {
            votes[train.y()[i]] += Math.exp(sim[i] / config.temperature());
        }
        return LinearModel.argmax(votes);
    }
}
