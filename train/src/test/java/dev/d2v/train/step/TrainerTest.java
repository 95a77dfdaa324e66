package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.DecoderConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.LossConfig;
import dev.d2v.train.model.Data2VecModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerTest {

    static Data2VecConfig small() {
        Data2VecConfig c = Data2VecConfig.cpu();
        c = c.with(Modality.AUDIO, c.audio().withLocalEncoder(LocalEncoderConfig.audio(16, 40, 8)));
        return c.with(Modality.TEXT, c.text().withLocalEncoder(LocalEncoderConfig.text(100, 32)));
    }

    /** Round robin over the three modalities of the tiny model: batch i of each. */
    static Minibatch roundRobin(int step) {
        int i = step / 3;
        return switch (step % 3) {
            case 0 -> SyntheticBatches.image(4, 1, 8, i);
            case 1 -> SyntheticBatches.audio(3, 24, 16, i);
            default -> SyntheticBatches.text(3, 16, 50, i);
        };
    }

    @Test
    void everyModalityOfTheCpuPresetTrainsWithFiniteLoss() {
        try (Trainer t = new Trainer(small(), Device.cpu(), 7)) {
            for (int i = 0; i < 2; i++) {
                for (StepResult r : List.of(t.step(SyntheticBatches.image(8, 1, 28, i)),
                        t.step(SyntheticBatches.audio(4, 40, 16, i)), t.step(SyntheticBatches.text(4, 32, 100, i)))) {
                    assertThat(r.applied()).isTrue();
                    assertThat(r.loss()).isFinite().isPositive();
                    assertThat(r.targetStd()).as("target spread above the collapse bound").isGreaterThan(0.1);
                }
            }
            assertThat(t.stepsDone()).isEqualTo(6);
            assertThat(t.samplesSeen()).containsEntry(Modality.IMAGE, 16L).containsEntry(Modality.TEXT, 8L);
        }
    }

    /**
     * A modality's lr_scale multiplies its steps' learning rate: from the same state and batch, Adam's step (and the
     * decoupled weight decay) is proportional to the rate, so the text parameters move by exactly the scale's share.
     */
    @Test
    void aModalitysLrScaleScalesItsSteps() {
        Data2VecConfig plain = small();
        Data2VecConfig scaled = plain.with(Modality.TEXT, plain.text().withLrScale(0.25));
        try (Trainer a = new Trainer(plain, Device.cpu(), 5); Trainer b = new Trainer(scaled, Device.cpu(), 5);
             NDManager m = NDManager.newBaseManager()) {
            for (Trainer t : List.of(a, b)) {
                t.step(SyntheticBatches.text(4, 32, 100, 0));   // step 0: warm-up starts at lr 0
            }
            String name = "text.token_embed.weight";
            NDArray before = a.student().view().entrySet().stream().filter(e -> e.getKey().startsWith(name))
                    .findFirst().orElseThrow().getValue().duplicate();
            before.attach(m);
            StepResult ra = a.step(SyntheticBatches.text(4, 32, 100, 1));
            StepResult rb = b.step(SyntheticBatches.text(4, 32, 100, 1));
            assertThat(ra.lr()).isPositive();
            assertThat(rb.lr()).isCloseTo(0.25 * ra.lr(), within(1e-15));
            assertThat(rb.loss()).isEqualTo(ra.loss());
            NDArray da = param(a, name).sub(before);
            NDArray db = param(b, name).sub(before);
            da.attach(m);
            db.attach(m);
            double na = da.norm().getFloat();
            assertThat(na).isPositive();
            assertThat(db.norm().getFloat() / na).isCloseTo(0.25, within(1e-3));
        }
    }

    /** A modality's own peak rate replaces the optimiser's for its steps, and its lr_scale still multiplies it. */
    @Test
    void aModalitysOwnPeakRateReplacesTheOptimisersAndKeepsItsScale() {
        Data2VecConfig plain = small();
        double peak = 3 * plain.optim().lr();
        Data2VecConfig own = plain.with(Modality.TEXT, plain.text().withLr(peak).withLrScale(0.5));
        try (Trainer a = new Trainer(plain, Device.cpu(), 5); Trainer b = new Trainer(own, Device.cpu(), 5)) {
            for (int i = 0; i < 3; i++) {
                StepResult ra = a.step(SyntheticBatches.text(4, 32, 100, i));
                StepResult rb = b.step(SyntheticBatches.text(4, 32, 100, i));
                assertThat(rb.lr()).isCloseTo(1.5 * ra.lr(), within(1e-15));
                StepResult ia = a.step(SyntheticBatches.image(4, 1, 28, i));
                StepResult ib = b.step(SyntheticBatches.image(4, 1, 28, i));
                assertThat(ib.lr()).as("the other modalities keep the optimiser's rate").isEqualTo(ia.lr());
            }
        }
    }

    /**
     * The pooled loss adds its own term to the loss of the same step, and trains a head that only the student has: from
     * the same seed the other parameters start equal (each is seeded by its name), so the step's token loss is the
     * plain run's and the difference is the pooled part.
     */
    @Test
    void thePooledLossAddsItsTermAndTrainsAStudentOnlyHead() {
        Data2VecConfig plain = small();
        Data2VecConfig pooled = plain.with(Modality.TEXT, plain.text().withLoss(new LossConfig(0, 0, 0, 1.0))
                .withPackRows(false));
        plain = plain.with(Modality.TEXT, plain.text().withPackRows(false));
        String head = Data2VecModel.pooledHead(Modality.TEXT) + ".weight";
        try (Trainer a = new Trainer(plain, Device.cpu(), 5); Trainer b = new Trainer(pooled, Device.cpu(), 5);
             NDManager m = NDManager.newBaseManager()) {
            assertThat(b.student().view()).containsKey(head);
            assertThat(b.teacher().view()).doesNotContainKey(head);
            assertThat(a.student().view()).doesNotContainKey(head);
            StepResult ra = a.step(SyntheticBatches.text(4, 32, 100, 0));
            StepResult rb = b.step(SyntheticBatches.text(4, 32, 100, 0));
            assertThat(ra.pooledLoss()).isZero();
            assertThat(rb.pooledLoss()).isPositive();
            assertThat(rb.loss()).isCloseTo(ra.loss() + rb.pooledLoss(), within(1e-4 * ra.loss()));
            NDArray before = param(b, head).duplicate();
            before.attach(m);
            StepResult next = b.step(SyntheticBatches.text(4, 32, 100, 1));
            assertThat(next.lr()).isPositive();
            NDArray moved = param(b, head).sub(before);
            moved.attach(m);
            assertThat(moved.norm().getFloat()).as("the head trains").isPositive();
            StepResult image = b.step(SyntheticBatches.image(4, 1, 28, 0));
            assertThat(image.pooledLoss()).as("only the modality configured has the term").isZero();
        }
    }

    /**
     * Packed text: 8 texts of 3..5 tokens (31) in rows of 32 go into one row; the step trains on it, counts 8 samples, and
     * the row holds every text's tokens in order.
     */
    @Test
    void packedTextTrainsOnFewerRowsAndCountsSamples() {
        int b = 8;
        int len = 32;
        int[] ids = new int[b * len];
        int[] valid = new int[b];
        for (int i = 0; i < b; i++) {
            valid[i] = 3 + i % 3;                            // 31 tokens in all
            ids[i * len] = 2;
            for (int t = 1; t < valid[i]; t++) {
                ids[i * len + t] = 5 + (7 * i + t) % 90;
            }
        }
        Minibatch batch = Minibatch.builder(Modality.TEXT, b, len).sampleIds(SyntheticBatches.ids("pk", b, 1))
                .validLengths(valid).int32(ids);
        Data2VecConfig c = small();
        c = c.with(Modality.TEXT, c.text().withPackRows(true));
        try (NDManager m = NDManager.newBaseManager()) {
            BatchTensors in = BatchTensors.forTraining(batch, c.text(), m);
            assertThat(in.input().getShape().get(0)).isEqualTo(1);
            assertThat(in.validTokens()).containsExactly(java.util.Arrays.stream(valid).sum());
            assertThat(in.batchSize()).isEqualTo(b);
            long[] row = in.input().toLongArray();
            assertThat(row[0]).isEqualTo(2);
            assertThat(row[valid[0]]).as("the second text starts where the first ends").isEqualTo(2);
            assertThat(BatchTensors.forTraining(batch, small().text().withPackRows(false), m).input().getShape().get(0))
                    .isEqualTo(b);
        }
        try (Trainer t = new Trainer(c, Device.cpu(), 3)) {
            for (int s = 0; s < 2; s++) {
                StepResult r = t.step(batch);
                assertThat(r.applied()).isTrue();
                assertThat(r.loss()).isFinite().isPositive();
                assertThat(r.samples()).isEqualTo(b);
            }
            assertThat(t.samplesSeen()).containsEntry(Modality.TEXT, 2L * b);
        }
    }

    private static NDArray param(Trainer t, String prefix) {
        return t.student().view().entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).findFirst()
                .orElseThrow().getValue();
    }

    /**
     * model.shared_trunk = false: each modality has its own main blocks ("{m}.blocks.{i}", in student and teacher); a
     * text step moves the text trunk and leaves the image and audio trunks bit for bit, where with the shared trunk the
     * same step moves the blocks that images run through.
     */
    @Test
    void perModalityTrunksKeepTheModalitiesApart() {
        Data2VecConfig shared = TinyConfigs.tiny();
        Data2VecConfig apart = shared.withModel(shared.model().withSharedTrunk(false));
        try (Trainer s = new Trainer(shared, Device.cpu(), 3); Trainer a = new Trainer(apart, Device.cpu(), 3);
             NDManager m = NDManager.newBaseManager()) {
            assertThat(a.student().view().keySet()).noneMatch(n -> n.startsWith("blocks."))
                    .contains("image.blocks.0.attn.qkv.weight", "audio.blocks.1.mlp.fc2.bias", "text.blocks.0.norm1.weight");
            assertThat(a.teacher().view().keySet()).contains("image.blocks.0.attn.qkv.weight", "text.blocks.1.norm2.bias");
            assertThat(s.student().view().keySet()).noneMatch(n -> n.startsWith("image.blocks."));
            for (Trainer t : List.of(s, a)) {
                t.step(SyntheticBatches.text(3, 16, 50, 0));   // step 0: warm-up starts at lr 0
            }
            Map<String, NDArray> before = new LinkedHashMap<>();
            for (String n : List.of("blocks.0.attn.qkv.weight", "image.blocks.0.attn.qkv.weight",
                    "audio.blocks.0.attn.qkv.weight", "text.blocks.0.attn.qkv.weight")) {
                NDArray copy = (n.startsWith("blocks.") ? s : a).student().view().get(n).duplicate();
                copy.attach(m);
                before.put(n, copy);
            }
            assertThat(s.step(SyntheticBatches.text(3, 16, 50, 1)).applied()).isTrue();
            assertThat(a.step(SyntheticBatches.text(3, 16, 50, 1)).applied()).isTrue();
            assertThat(moved(s, "blocks.0.attn.qkv.weight", before)).as("shared trunk, read by images too").isPositive();
            assertThat(moved(a, "text.blocks.0.attn.qkv.weight", before)).isPositive();
            assertThat(moved(a, "image.blocks.0.attn.qkv.weight", before)).isZero();
            assertThat(moved(a, "audio.blocks.0.attn.qkv.weight", before)).isZero();
            // and every modality still trains through its own trunk
            assertThat(a.step(SyntheticBatches.image(4, 1, 8, 0)).loss()).isFinite().isPositive();
            assertThat(a.step(SyntheticBatches.audio(3, 24, 16, 0)).loss()).isFinite().isPositive();
            assertThat(moved(a, "image.blocks.0.attn.qkv.weight", before)).isPositive();
        }
    }

    @Test
    void theTokenTableTrainsAtItsOwnMultipleOfTheRate() {
        Data2VecConfig base = TinyConfigs.tiny();
        Data2VecConfig faster = base.with(Modality.TEXT, base.text().withEmbedLrScale(10));
        assertThatThrownBy(() -> base.with(Modality.IMAGE, base.image().withEmbedLrScale(10)))
                .hasMessageContaining("image.embed_lr_scale: only text has a token embedding table");
        try (Trainer a = new Trainer(base, Device.cpu(), 5); Trainer b = new Trainer(faster, Device.cpu(), 5);
             NDManager m = NDManager.newBaseManager()) {
            String table = "text.token_embed.weight";
            String block = "blocks.0.attn.qkv.weight";
            for (Trainer t : List.of(a, b)) {
                t.step(SyntheticBatches.text(3, 16, 50, 0));   // step 0: warm-up starts at lr 0
            }
            Map<String, NDArray> before = new LinkedHashMap<>();
            for (String n : List.of(table, block)) {
                NDArray copy = a.student().view().get(n).duplicate();
                copy.attach(m);
                before.put(n, copy);
            }
            a.step(SyntheticBatches.text(3, 16, 50, 1));
            b.step(SyntheticBatches.text(3, 16, 50, 1));
            // the same gradients and Adam moments in both: the table's update is 10 times as large, the rest equal
            NDArray da = a.student().view().get(table).sub(before.get(table));
            NDArray db = b.student().view().get(table).sub(before.get(table));
            da.attach(m);
            db.attach(m);
            assertThat(da.abs().max().getFloat()).isPositive();
            assertThat(db.sub(da.mul(10)).abs().max().getFloat()).as("float rounding of p + update only")
                    .isLessThan(1e-2f * db.abs().max().getFloat());
            assertThat(moved(b, block, before)).isCloseTo(moved(a, block, before), within(1e-9));
        }
    }

    private static double moved(Trainer t, String name, Map<String, NDArray> before) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray d = t.student().view().get(name).sub(before.get(name));
            d.attach(m);
            return d.abs().max().getFloat();
        }
    }

    /** The transformer decoder (the alternative to the conv decoder) trains every modality too. */
    @Test
    void transformerDecoderAlternativeTrains() {
        Data2VecConfig c = TinyConfigs.tiny();
        for (Modality m : Modality.values()) {
            DecoderConfig d = c.modality(m).decoder();
            c = c.with(m, c.modality(m).withDecoder(new DecoderConfig(false, d.dim(), 1, d.kernel(),
                    d.groups(), d.residual(), d.projectionLayers())));
        }
        try (Trainer t = new Trainer(c, Device.cpu(), 3)) {
            assertThat(t.student().view().keySet()).contains("image.decoder.in_proj.weight");
            for (int s = 0; s < 6; s++) {
                StepResult r = t.step(roundRobin(s));
                assertThat(r.applied()).isTrue();
                assertThat(r.loss()).isFinite().isPositive();
            }
        }
    }

    /** The teacher has no gradient, no decoder, and after a step equals tau * teacher + (1 - tau) * new student. */
    @Test
    void teacherGetsNoGradientAndMovesOnlyByTheEmaFormula() {
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 1)) {
            for (int s = 0; s < 40; s++) {   // past the warm-up, so that lr > 0 and the student moves
                t.step(roundRobin(s));
            }
            Map<String, float[]> before = snapshot(t.teacher().view());
            StepResult r = t.step(SyntheticBatches.image(4, 1, 8, 99));
            assertThat(r.applied()).isTrue();
            assertThat(r.tau()).isBetween(0.9, 1.0);
            assertThat(t.teacher().view().keySet()).allMatch(Data2VecModel::inTeacher)
                    .noneMatch(n -> n.contains(".decoder."));
            int moved = 0;
            for (Map.Entry<String, NDArray> e : t.teacher().view().entrySet()) {
                NDArray p = e.getValue();
                assertThat(p.hasGradient()).as("%s has a gradient", e.getKey()).isFalse();
                float[] old = before.get(e.getKey());
                float[] student = t.student().get(e.getKey()).toFloatArray();
                float[] now = p.toFloatArray();
                for (int i = 0; i < now.length; i++) {
                    double expected = r.tau() * old[i] + (1 - r.tau()) * student[i];
                    assertThat((double) now[i]).isCloseTo(expected, within(1e-6 + 1e-6 * Math.abs(expected)));
                }
                if (!Arrays.equals(old, now)) {
                    moved++;
                }
            }
            assertThat(moved).as("teacher tensors that moved").isGreaterThan(10);
        }
    }

    /** Stopping after k steps and continuing from the saved state gives the losses of the run that never stopped. */
    @Test
    void resumeReproducesTheLosses() {
        int total = 12;
        int stop = 7;
        List<Double> straight = new ArrayList<>();
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 5)) {
            for (int s = 0; s < total; s++) {
                straight.add(t.step(roundRobin(s)).loss());
            }
        }
        List<Double> resumed = new ArrayList<>();
        try (NDManager keep = NDManager.newBaseManager()) {
            Map<String, Map<String, NDArray>> saved = new LinkedHashMap<>();
            Trainer.Counters counters;
            try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 5)) {
                for (int s = 0; s < stop; s++) {
                    resumed.add(t.step(roundRobin(s)).loss());
                }
                for (Map.Entry<String, Map<String, NDArray>> g : t.tensors().entrySet()) {
                    Map<String, NDArray> copy = new LinkedHashMap<>();
                    g.getValue().forEach((k, v) -> copy.put(k, keep.create(v.toFloatArray(), v.getShape())));
                    saved.put(g.getKey(), copy);
                }
                counters = t.counters();
            }
            try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 5)) {   // same seed: same init, then overwritten
                t.restore(saved, counters);
                for (int s = stop; s < total; s++) {
                    resumed.add(t.step(roundRobin(s)).loss());
                }
            }
        }
        assertThat(resumed).containsExactlyElementsOf(straight);
    }

    /**
     * Native memory (resident set minus what the JVM committed), not only the array count, stays flat over 600 steps.
     * A leak grows every window of steps alike; the allocator's arenas grow now and then by tens of MB and then stay
     * (seen on a quiet 2-core machine in one run in three). So the median growth of five 100-step windows after
     * warm-up must be below 8 MB: a leak of 80 KB per step (one small activation) fails it, one arena jump does not.
     */
    @Test
    void nativeMemoryStaysFlatOver600Steps() throws IOException {
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 2)) {
            long[] at = new long[6];
            int s = 0;
            for (int i = 0; i < at.length; i++) {
                for (; s < 100 * (i + 1); s++) {
                    t.step(roundRobin(s));
                }
                System.gc();
                at[i] = nativeKb();
            }
            long[] growthMb = new long[at.length - 1];
            for (int i = 0; i < growthMb.length; i++) {
                growthMb[i] = (at[i + 1] - at[i]) / 1024;
            }
            System.out.println("native growth MB per 100 steps from step 100: " + Arrays.toString(growthMb));
            long[] sorted = growthMb.clone();
            Arrays.sort(sorted);
            assertThat(sorted[sorted.length / 2]).as("median native growth per 100 steps, MB").isLessThan(8);
        }
    }

    /** Resident set minus the JVM's committed heap and non-heap memory, in KB. */
    static long nativeKb() throws IOException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long jvm = mem.getHeapMemoryUsage().getCommitted() + mem.getNonHeapMemoryUsage().getCommitted();
        return rssKb() - jvm / 1024;
    }

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static Map<String, float[]> snapshot(Map<String, NDArray> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
