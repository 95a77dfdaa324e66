package dev.d2v.evaluate.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FineTuneTest {

    /** 8x8 grey images with a bright 3x3 square in the left (label 0) or right (label 1) half, noisy background. */
    static Minibatch leftRight(int b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int size = 8;
        byte[] px = new byte[b * size * size];
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) {
            labels[i] = r.nextInt(2);
            int x0 = labels[i] == 0 ? r.nextInt(2) : 4 + r.nextInt(2);
            int y0 = r.nextInt(size - 2);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    boolean in = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3;
                    px[(i * size + y) * size + x] = (byte) (in ? 200 + r.nextInt(56) : r.nextInt(40));
                }
            }
        }
        return Minibatch.builder(Modality.IMAGE, b, 1, size, size).sampleIds(SyntheticBatches.ids("lr", b, seed))
                .labels(labels).uint8(px);
    }

    static List<Minibatch> split(int batches, int b, long seed) {
        List<Minibatch> out = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            out.add(leftRight(b, seed * 1000 + i));
        }
        return out;
    }

    /**
     * Left vs right is invisible to a linear map of mean-pooled patch embeddings (the pool is symmetric): the encoder
     * itself has to learn to weigh positions, so it trains at the head's rate here.
     */
    static final FineTune.Config SMALL = FineTune.Config.defaults().withEpochs(6).withBatchSize(32).withLr(1e-2, 1.0);

    @Test
    void separableTaskIsLearntAndTheSourceEncoderIsUnchanged() {
        Data2VecConfig config = TinyConfigs.tiny();
        try (Encoder encoder = Encoder.randomInit(config, 3, Device.cpu())) {
            Map<String, float[]> before = values(encoder.parameters());
            NDManager sourceManager = encoder.parameters().values().iterator().next().getManager();
            int arrays = sourceManager.getManagedArrays().size();

            FineTune.Result r = FineTune.run(encoder, Modality.IMAGE, split(8, 32, 1), split(4, 32, 2), 2, SMALL);

            assertThat(r.testAccuracy()).as("test accuracy, loss curve %s", r.trainLoss()).isGreaterThan(0.9);
            assertThat(r.steps()).isEqualTo(6 * 8);
            assertThat(r.trainLoss()).hasSize(48).allMatch(Double::isFinite);
            assertThat(r.finalLoss(0.25)).isLessThan(r.trainLoss().get(0));
            assertThat(r.trainSamples()).isEqualTo(256);
            assertThat(r.testSamples()).isEqualTo(128);
            assertThat(r.epochs()).isEqualTo(6.0);

            Map<String, float[]> after = values(encoder.parameters());
            assertThat(after.keySet()).isEqualTo(before.keySet());
            before.forEach((name, v) -> assertThat(after.get(name)).as(name).containsExactly(v));
            assertThat(sourceManager.getManagedArrays()).as("nothing left in the source's manager").hasSize(arrays);
            assertThat(encoder.parameters().values()).noneMatch(NDArray::hasGradient);
        }
    }

    @Test
    void sameSeedSameResultOtherSeedOtherCurve() {
        Data2VecConfig config = TinyConfigs.tiny();
        FineTune.Config c = SMALL.withSteps(12);
        try (Encoder encoder = Encoder.randomInit(config, 5, Device.cpu())) {
            List<Minibatch> train = split(4, 32, 3);
            List<Minibatch> test = split(2, 32, 4);
            FineTune.Result a = FineTune.run(encoder, Modality.IMAGE, train, test, 2, c);
            FineTune.Result b = FineTune.run(encoder, Modality.IMAGE, train, test, 2, c);
            FineTune.Result other = FineTune.run(encoder, Modality.IMAGE, train, test, 2, c.withSeed(9));
            assertThat(b.testAccuracy()).isEqualTo(a.testAccuracy());
            assertThat(b.trainLoss()).isEqualTo(a.trainLoss());
            assertThat(a.steps()).isEqualTo(12);
            assertThat(a.epochs()).isEqualTo(3.0);
            assertThat(other.trainLoss()).isNotEqualTo(a.trainLoss());
        }
    }

    /** A head fit gets the head's inputs of every training sample and its weights are what the head starts from. */
    @Test
    void headFitSeesEveryTrainingSampleAndSetsTheHead() {
        List<Minibatch> train = split(2, 16, 5);
        List<Minibatch> test = split(2, 16, 6);
        int[] seen = new int[2];
        FineTune.HeadFit alwaysOne = (x, y, classes) -> {
            seen[0] = x.length;
            seen[1] = x[0].length;
            assertThat(y).containsExactly(IntStream.concat(Arrays.stream(train.get(0).labels()),
                    Arrays.stream(train.get(1).labels())).toArray());
            double mean = Arrays.stream(x).flatMapToDouble(r -> IntStream.range(0, r.length)
                    .mapToDouble(j -> r[j])).average().orElseThrow();
            assertThat(mean).as("LayerNorm output").isCloseTo(0.0, org.assertj.core.api.Assertions.within(1e-4));
            return new FineTune.HeadWeights(new float[classes][x[0].length], new float[] {0f, 100f});
        };
        long ones = test.stream().flatMapToInt(b -> Arrays.stream(b.labels())).filter(l -> l == 1).count();
        try (Encoder encoder = Encoder.randomInit(TinyConfigs.tiny(), 3, Device.cpu())) {
            FineTune.Result r = FineTune.run(encoder, Modality.IMAGE, train, test, 2,
                    FineTune.Config.defaults().withSteps(1).withLr(1e-9, 0), alwaysOne, null);
            assertThat(seen).containsExactly(32, 32);
            assertThat(r.testAccuracy()).isEqualTo(ones / 32.0);

            // the frozen probes' features of the same encoder stand in for the fine-tune's own pass: same result
            float[][] pooled = encoder.features(Modality.IMAGE, train);
            FineTune.Config c = FineTune.Config.defaults().withSteps(2);
            FineTune.Result own = FineTune.run(encoder, Modality.IMAGE, train, test, 2, c, null, null);
            FineTune.Result given = FineTune.run(encoder, Modality.IMAGE, train, test, 2, c, null, pooled);
            assertThat(given.trainLoss()).isEqualTo(own.trainLoss());
            assertThatThrownBy(() -> FineTune.run(encoder, Modality.IMAGE, train, test, 2, c, null,
                    Arrays.copyOf(pooled, 5))).hasMessageContaining("the task has 32 training samples");
        }
    }

    @Test
    void samplesAreRebatchedWithTheirLabelsAndShuffledBySeedAndEpoch() {
        List<Minibatch> batches = List.of(leftRight(3, 1), leftRight(2, 2));
        Samples s = Samples.of(batches, 2);
        assertThat(s.size()).isEqualTo(5);
        Minibatch m = s.select(new int[] {4, 0, 3}, 0, 3);
        assertThat(m.shape()).containsExactly(3, 1, 8, 8);
        assertThat(m.sampleIds()).containsExactly(batches.get(1).sampleIds().get(1), batches.get(0).sampleIds().get(0),
                batches.get(1).sampleIds().get(0));
        assertThat(m.labels()).containsExactly(batches.get(1).labels()[1], batches.get(0).labels()[0],
                batches.get(1).labels()[0]);
        assertThat(Arrays.copyOfRange(m.payload(), 0, 64)).isEqualTo(Arrays.copyOfRange(batches.get(1).payload(), 64, 128));

        int[] p = Samples.permutation(100, 7, 0);
        assertThat(Arrays.stream(p).sorted().toArray()).isEqualTo(IntStream.range(0, 100).toArray());
        assertThat(Samples.permutation(100, 7, 0)).isEqualTo(p);
        assertThat(Samples.permutation(100, 7, 1)).isNotEqualTo(p);
        assertThat(Samples.permutation(100, 8, 0)).isNotEqualTo(p);

        assertThatThrownBy(() -> Samples.of(List.of(SyntheticBatches.image(2, 1, 8, 0)), 2))
                .hasMessageContaining("carries no labels");
        assertThatThrownBy(() -> Samples.of(batches, 1)).hasMessageContaining("expected a class id in [0, 1)");
    }

    @Test
    void layerWiseLearningRates() {
        FineTune.Config c = FineTune.Config.defaults().withLr(1e-3, 0.1);
        FineTune.Config decayed = new FineTune.Config(1, 0, 8, 1e-3, 0.5, 0.5, 0, 0.999, 0.1, 0.01, 0, 0, true);
        // L = 1 prenet + 2 trunk blocks = 3
        assertThat(FineTune.lrScale("head.fc.weight", Modality.IMAGE, 1, 3, c)).isEqualTo(1.0);
        assertThat(FineTune.lrScale("blocks.1.mlp.fc1.weight", Modality.IMAGE, 1, 3, c)).isEqualTo(0.1);
        assertThat(FineTune.lrScale("image.patch_embed.weight", Modality.IMAGE, 1, 3, decayed)).isEqualTo(0.5 / 16);
        assertThat(FineTune.lrScale("image.prenet.0.norm1.bias", Modality.IMAGE, 1, 3, decayed)).isEqualTo(0.5 / 8);
        assertThat(FineTune.lrScale("blocks.0.attn.qkv.weight", Modality.IMAGE, 1, 3, decayed)).isEqualTo(0.5 / 4);
        assertThat(FineTune.lrScale("blocks.1.attn.qkv.weight", Modality.IMAGE, 1, 3, decayed)).isEqualTo(0.5 / 2);
        assertThat(FineTune.lrScale("head.norm.weight", Modality.IMAGE, 1, 3, decayed)).isEqualTo(1.0);
        // a per-modality trunk (model.shared_trunk = false) has the same layer ids as the shared one
        assertThat(FineTune.lrScale("image.blocks.1.attn.qkv.weight", Modality.IMAGE, 1, 3, decayed)).isEqualTo(0.5 / 2);
    }

    @Test
    void budgetAndSchedule() {
        FineTune.Config c = FineTune.Config.defaults().withEpochs(3).withBatchSize(32);
        assertThat(c.totalSteps(100)).isEqualTo(3 * 4);
        assertThat(c.withSteps(7).totalSteps(100)).isEqualTo(7);
        assertThat(c.optim(100).warmupSteps()).isEqualTo(10);
        assertThat(c.optim(100).totalSteps()).isEqualTo(100);
        assertThatThrownBy(() -> c.withEpochs(0)).hasMessageContaining("epochs > 0 or steps > 0");
    }

    private static Map<String, float[]> values(Map<String, NDArray> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
