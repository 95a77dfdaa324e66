package dev.d2v.train.stream;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.loop.TrainingLoop;
import dev.d2v.train.mask.Masking;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.StepStrategy;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The continuous trainer's loop on batches from memory: rollback after non-finite losses, the collapse guard, stop and
 * time checkpoints, turns, metrics file and Prometheus endpoint.
 */
class StreamTrainerTest {

    @TempDir
    Path tmp;

    /** Audio batch i of samples named nan-i-j, whose targets {@link #diverging} turns to NaN. */
    private static Minibatch nanAudio(int b, int i) {
        Minibatch s = SyntheticBatches.audio(b, 24, 16, 100 + i);
        return Minibatch.builder(Modality.AUDIO, b, 24, 16).sampleIds(SyntheticBatches.ids("nan", b, i))
                .validLengths(s.validLengths()).payload(s.dtype(), s.payload());
    }

    /**
     * The data2vec step with NaN targets for the nan-* samples: a model that diverges on them. (NaN in the input
     * itself no longer reaches a step: the batch check dead-letters it.)
     */
    private static StepStrategy diverging() {
        Set<Long> poisoned = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            SyntheticBatches.ids("nan", 4, i).forEach(id -> poisoned.add(Masking.sampleKey(id)));
        }
        return new StepStrategy() {
            @Override
            public Data2VecModel.TeacherOut targets(Data2VecModel model, Params teacher, Modality m, BatchTensors in,
                                                    int clones) {
                Data2VecModel.TeacherOut t = StepStrategy.super.targets(model, teacher, m, in, clones);
                return Arrays.stream(in.sampleKeys()).anyMatch(poisoned::contains)
                        ? new Data2VecModel.TeacherOut(t.targets().mul(Float.NaN), t.pooled()) : t;
            }
        };
    }

    @Test
    void nonFiniteLossesAreSkippedAndSeveralInARowRollBackToTheLastCheckpoint() throws Exception {
        // steps 0-5 good (checkpoints at 3 and 6), then three NaN batches, then good ones again
        List<Minibatch> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.add(SyntheticBatches.audio(4, 24, 16, i));
        }
        for (int i = 0; i < 3; i++) {
            batches.add(nanAudio(4, i));
        }
        for (int i = 6; i < 9; i++) {
            batches.add(SyntheticBatches.audio(4, 24, 16, i));
        }
        StreamSettings s = StreamSettings.defaults(List.of(Modality.AUDIO))
                .withCheckpoints(3, null, new RetentionPolicy(5, 0)).withRollbackAfter(3).withStop(9, null);
        List<TrainedStep> steps = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (Trainer t = new Trainer(TinyConfigs.tiny().restrictTo(List.of(Modality.AUDIO)), Device.cpu(), 1, diverging());
             MemoryBatchSource source = new MemoryBatchSource(Map.of(Modality.AUDIO, batches))) {
            StreamTrainer.Outcome o = StreamTrainer.train(t, source, Map.of(), s, tmp, null,
                    StreamTrainer.Hooks.quiet().withListeners(List.of(steps::add)), () -> false);
            assertThat(o.rollbacks()).isEqualTo(1);
            assertThat(t.stepsDone()).isEqualTo(9);
            assertThat(t.skipped()).isZero();   // the counters came back with the checkpoint of step 6
        }
        assertThat(steps).extracting(x -> x.result().step()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 6L, 7L, 8L);
        assertThat(steps.subList(6, 9)).allMatch(x -> !x.result().applied() && Double.isNaN(x.result().loss()));
        // after the rollback the data moved on: batches 6..8 of the good ones, not the NaN ones again
        assertThat(steps.subList(9, 12)).allMatch(x -> x.result().applied() && Double.isFinite(x.result().loss()));
        assertThat(steps.get(9).source().batch().sampleIds().get(0)).isEqualTo("aud-6-0");
    }

    /** The collapse guard acts on the continuous trainer too: a config whose guard says stop ends the run, checkpointed. */
    @Test
    void aCollapseGuardThatSaysStopEndsTheRunWithACheckpoint() throws Exception {
        // no real model reaches a mean channel std of 1000: from step 2 on (after_steps) every check fails
        Data2VecConfig guarded = StreamFixtures.imageOnly().withOverrides(List.of("collapse_guard.min_target_var=1000",
                "collapse_guard.after_steps=2", "collapse_guard.stop=true"));
        List<Minibatch> batches = List.of(StreamFixtures.image(0, 2), StreamFixtures.image(1, 2));
        StreamSettings s = StreamSettings.defaults(List.of(Modality.IMAGE))
                .withCheckpoints(0, null, new RetentionPolicy(10, 0)).withStop(6, null);
        List<String> log = new ArrayList<>();
        try (Trainer t = new Trainer(guarded, Device.cpu(), 1);
             MemoryBatchSource source = new MemoryBatchSource(Map.of(Modality.IMAGE, batches))) {
            StreamTrainer.Outcome o = StreamTrainer.train(t, source, Map.of(), s, tmp.resolve("guard"), null,
                    new StreamTrainer.Hooks(List.of(), d -> {}, e -> {}, log::add), () -> false);
            assertThat(o.reason()).isEqualTo("collapse guard");
            assertThat(t.stepsDone()).isEqualTo(3);             // steps 0 and 1 unchecked, step 2 stops
            assertThat(o.lastCheckpoint().step()).isEqualTo(3);
        }
        assertThat(log).anyMatch(l -> l.startsWith("collapse guard at step 2: "));
    }

    /** A stop request (the shutdown hook's) ends the loop with a checkpoint; the time trigger checkpoints too. */
    @Test
    void stopCheckpointsAndSoDoesTheTimeTrigger() throws Exception {
        List<Minibatch> batches = List.of(StreamFixtures.image(0, 2), StreamFixtures.image(1, 2));
        StreamSettings byNothing = StreamSettings.defaults(List.of(Modality.IMAGE))
                .withCheckpoints(0, null, new RetentionPolicy(10, 0));
        try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), 1);
             MemoryBatchSource source = new MemoryBatchSource(Map.of(Modality.IMAGE, batches))) {
            StreamTrainer.Outcome o = StreamTrainer.train(t, source, Map.of(), byNothing, tmp.resolve("stop"), null,
                    StreamTrainer.Hooks.quiet(), () -> t.stepsDone() >= 3);
            assertThat(o.reason()).isEqualTo("stopped");
            assertThat(o.checkpoints()).isEqualTo(1);
            assertThat(o.lastCheckpoint().step()).isEqualTo(3);
            assertThat(o.lastCheckpoint().offsets()).containsEntry("memory.image:0", 3L);
        }
        StreamSettings byTime = byNothing.withCheckpoints(0, Duration.ofMillis(1), new RetentionPolicy(10, 0))
                .withStop(3, null);
        try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), 1);
             MemoryBatchSource source = new MemoryBatchSource(Map.of(Modality.IMAGE, batches))) {
            StreamTrainer.Outcome o = StreamTrainer.train(t, source, Map.of(), byTime, tmp.resolve("time"), null,
                    StreamTrainer.Hooks.quiet(), () -> false);
            // steps 1 and 2 by time (a step takes more than 1 ms), step 3 at the end
            assertThat(o.checkpoints()).isEqualTo(3);
            assertThat(CheckpointStore.list(tmp.resolve("time"))).hasSize(3);
        }
    }

    /** An idle modality costs its wait once, not every cycle, and a step never waits forever. */
    @Test
    void anEmptyModalityIsWaitedOnOnceThenOnlyPeekedAt() throws Exception {
        List<String> polls = new ArrayList<>();
        Minibatch img = StreamFixtures.image(0, 2);
        BatchSource source = new BatchSource() {
            @Override
            public Fetched poll(Modality m, Duration wait) {
                polls.add(m.id() + ":" + wait.toMillis());
                return m == Modality.IMAGE ? new Fetched(m, "x", 0, polls.size(), img, null) : null;
            }

            @Override
            public long lag(Modality m, Map<String, Long> trained) {
                return 0;
            }

            @Override
            public void close() {}
        };
        StreamSettings s = StreamSettings.defaults(List.of(Modality.IMAGE, Modality.TEXT));
        RoundRobin rr = new RoundRobin(s.weights());
        Set<Modality> dry = EnumSet.noneOf(Modality.class);
        for (long step = 0; step < 4; step++) {
            assertThat(TrainingLoop.take(source, rr.turnOrder(step), s.maxWait(), dry).modality()).isEqualTo(Modality.IMAGE);
        }
        // step 0 image; step 1 text's turn: waited 200 ms, empty, then image; steps 2 and 3: text only peeked at
        assertThat(polls).containsExactly("image:200", "text:200", "image:200", "image:200", "text:0", "image:200");
        assertThat(dry).containsExactly(Modality.TEXT);
    }

    @Test
    void metricsGoToTheJsonlFileAndThePrometheusEndpoint() throws Exception {
        List<Minibatch> batches = List.of(StreamFixtures.image(0, 4), StreamFixtures.image(1, 4));
        Path file = tmp.resolve("metrics.jsonl");
        StreamSettings s = StreamSettings.defaults(List.of(Modality.IMAGE)).withStop(3, null);
        try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), 1);
             MemoryBatchSource source = new MemoryBatchSource(Map.of(Modality.IMAGE, batches));
             StreamMetrics metrics = new StreamMetrics(file, -1)) {
            StreamTrainer.train(t, source, Map.of(), s, tmp.resolve("ckpt"), null,
                    StreamTrainer.Hooks.quiet().withListeners(List.of(metrics)), () -> false);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("d2v_train_loss{modality=\"image\"}")
                    .contains("d2v_train_steps_total{modality=\"image\"} 3.0")
                    .contains("d2v_train_samples_total{modality=\"image\"} 12.0")
                    .contains("d2v_train_data_wait_fraction")
                    .contains("d2v_train_freshness_seconds{modality=\"image\"}")
                    .contains("d2v_train_step 3.0");
        }
        var lines = StreamFixtures.readJsonl(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2).get("step").asLong()).isEqualTo(2);
        assertThat(lines.get(2).get("loss").asDouble()).isFinite();
        assertThat(lines.get(2).get("freshness_ms").asLong()).isBetween(0L, 600_000L);
        assertThat(lines.get(2).get("data_wait_fraction").asDouble()).isBetween(0.0, 1.0);
        assertThat(lines.get(2).get("topic").asText()).isEqualTo("memory.image");
        assertThat(lines.get(2).get("offset").asLong()).isEqualTo(2);
        assertThat(lines.get(2).has("tau")).isTrue();
    }

    @Test
    void theMetricsEndpointListensOnLoopbackUnlessToldOtherwise() throws Exception {
        try (StreamMetrics local = new StreamMetrics(null, -1);
             StreamMetrics everywhere = new StreamMetrics(null, "0.0.0.0", -1);
             StreamMetrics none = new StreamMetrics(null, 0)) {
            assertThat(local.address().getAddress().isLoopbackAddress()).isTrue();
            assertThat(everywhere.address().getAddress().isAnyLocalAddress()).isTrue();
            assertThat(none.address()).isNull();
        }
    }
}
