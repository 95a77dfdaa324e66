package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.evaluate.follow.FollowerState;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.run.TrainerCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker lost while `d2v evaluate --follow` publishes its results: the checkpoint is not marked rejected, the
 * follower does not exit, and once the broker is back it evaluates the checkpoint again and publishes.
 */
class EvaluatorBrokerOutageTest {

    @TempDir
    Path dir;

    @Test
    void anEvaluationWhoseResultsCannotBePublishedIsRetriedNotRejectedAndTheFollowerGoesOn() throws Exception {
        Path images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "2",
                "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        CheckpointStore.Verified checkpoint = CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint().orElseThrow();
        CheckpointEvent event = TrainerCheckpoints.event(checkpoint);

        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(dir.resolve("kafka"), 0))) {
            Path cfg = dir.resolve("d2v.yaml");
            Files.writeString(cfg, "kafka:\n  bootstrap: " + broker.bootstrap() + "\ntopics:\n  partitions: 1\n");
            PipelineConfig c = PipelineConfig.load(cfg);
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                admin.ensureTopics(c.topics());
            }
            Topics topics = c.topicNames();
            // the follower had taken the checkpoint when it stopped (its state says started): the next start
            // evaluates it first, before any poll, which makes the moment of publishing certain
            Path out = dir.resolve("eval");
            Files.createDirectories(out);
            FollowerState.load(out.resolve("follower-state.json")).record(event, FollowerState.Status.STARTED,
                    Instant.now(), "", 0);
            broker.stop();

            AtomicInteger code = new AtomicInteger(-1);
            Thread follower = new Thread(() -> code.set(Main.run("evaluate", "--config", cfg.toString(), "--follow",
                    "--group", "eval-outage", "--task", images.toString(), "--no-finetune", "--threads", "1", "--nice", "0",
                    "--out", out.toString(), "--max-checkpoints", "1", "--checkpoint-root", dir.toString())),
                    "follower");
            follower.start();
            // publishing waits 30 s for an acknowledgement; then the follower backs off and tries again
            Thread.sleep(40_000);
            assertThat(follower.isAlive()).as("the follower goes on while Kafka is down").isTrue();
            assertThat(FollowerState.load(out.resolve("follower-state.json")).get(event.checkpointId())).get()
                    .extracting(FollowerState.Entry::status).as("not rejected").isEqualTo(FollowerState.Status.STARTED);

            broker.start();
            follower.join(Duration.ofMinutes(4).toMillis());
            assertThat(follower.isAlive()).isFalse();
            assertThat(code.get()).isZero();
            assertThat(FollowerState.load(out.resolve("follower-state.json")).get(event.checkpointId())).get()
                    .extracting(FollowerState.Entry::status).isEqualTo(FollowerState.Status.DONE);
            List<EvalEvent> published = KafkaTestClients.readAll(broker.bootstrap(), topics.eval(), 2, true,
                    Duration.ofSeconds(30)).stream().map(r -> EvalEvent.fromJson(r.value())).toList();
            assertThat(published).extracting(e -> e.result().protocol().id()).contains("linear", "knn");
            assertThat(published).allMatch(e -> e.checkpointId().equals(event.checkpointId()));
        }
    }
}
