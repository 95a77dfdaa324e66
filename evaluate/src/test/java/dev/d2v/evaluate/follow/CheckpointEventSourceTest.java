package dev.d2v.evaluate.follow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.evaluate.follow.CheckpointFollower.Action;
import dev.d2v.evaluate.follow.CheckpointFollower.Outcome;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The follow loop on d2v.checkpoints of the project's real local broker, with a fake Evaluator. */
class CheckpointEventSourceTest {
    @TempDir
    Path dir;

    private static CheckpointEvent checkpoint(long step) {
        return new CheckpointEvent(String.format("step-%09d", step), step, Map.of("image", step), Map.of(),
                "/ckpt/" + step, 1L, Instant.parse("2026-11-28T20:00:00Z"));
    }

    private static void send(KafkaProducer<byte[], byte[]> p, String topic, byte[] value) throws Exception {
        p.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), value)).get();
    }

    @Test
    void followsCommitsAndSkipsMalformedRecords() throws Exception {
        Topics topics = new Topics("fo" + UUID.randomUUID().toString().substring(0, 8));
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (TopicAdmin admin = new TopicAdmin(client)) {
            admin.ensureTopics(new PipelineConfig.TopicSettings(topics.prefix(), 1, null, 1024 * 1024, (short) 1));
        }
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(SharedLocalKafka.bootstrap(), 1024 * 1024)) {
            send(p, topics.checkpoints(), checkpoint(1000).toJson());
            send(p, topics.checkpoints(), "{\"version\": 7, \"kind\": \"checkpoint\"}".getBytes(StandardCharsets.UTF_8));
            send(p, topics.checkpoints(), checkpoint(2000).toJson());
        }
        List<Long> evaluated = new ArrayList<>();
        Evaluator evaluator = c -> {
            evaluated.add(c.step());
            return List.of(new EvalResult(c.checkpointId(), c.step(), Modality.IMAGE, "t", Protocol.LINEAR, 0.5, 0.4, Map.of()));
        };
        String group = "eval-" + UUID.randomUUID();
        Path stateFile = dir.resolve("follower.json");

        List<Outcome> seen = new ArrayList<>();
        try (CheckpointEventSource source = new CheckpointEventSource(client, topics, group)) {
            CheckpointFollower f = new CheckpointFollower(evaluator, FollowerState.load(stateFile), FollowPolicy.EACH,
                    seen::add, Clock.systemUTC());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            f.run(source, () -> seen.size() < 2 && System.nanoTime() < deadline, Duration.ofMillis(500));
        }
        assertThat(evaluated).containsExactly(1000L, 2000L);
        assertThat(seen).extracting(Outcome::action).containsExactly(Action.EVALUATED, Action.EVALUATED);

        // a restart in the same group: offsets were committed, only the new event arrives
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(SharedLocalKafka.bootstrap(), 1024 * 1024)) {
            send(p, topics.checkpoints(), checkpoint(3000).toJson());
        }
        List<Outcome> after = new ArrayList<>();
        try (CheckpointEventSource source = new CheckpointEventSource(client, topics, group)) {
            CheckpointFollower f = new CheckpointFollower(evaluator, FollowerState.load(stateFile), FollowPolicy.EACH,
                    after::add, Clock.systemUTC());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            f.run(source, () -> after.isEmpty() && System.nanoTime() < deadline, Duration.ofMillis(500));
        }
        assertThat(after).singleElement().extracting(o -> o.checkpoint().step()).isEqualTo(3000L);
        assertThat(evaluated).containsExactly(1000L, 2000L, 3000L);
    }
}
