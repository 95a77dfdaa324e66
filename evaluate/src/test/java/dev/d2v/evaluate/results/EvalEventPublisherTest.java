package dev.d2v.evaluate.results;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.PromotionEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Results onto d2v.eval of the project's real local broker and back through infra's EvalEvent decoder. */
class EvalEventPublisherTest {

    @Test
    void eventsRoundTripThroughTheBroker() throws Exception {
        Topics topics = new Topics("ev" + UUID.randomUUID().toString().substring(0, 8));
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (TopicAdmin admin = new TopicAdmin(client)) {
            admin.ensureTopics(new PipelineConfig.TopicSettings(topics.prefix(), 1, null, 1024 * 1024, (short) 1));
        }
        Instant at = Instant.parse("2026-11-28T20:00:00.123Z");
        List<EvalResult> results = List.of(EvalResultTest.LINEAR, EvalResultTest.KNN_NO_BASELINE);

        List<EvalEvent> sent;
        try (EvalEventPublisher publisher = new EvalEventPublisher(client, topics, Duration.ofSeconds(30))) {
            assertThat(publisher.topic()).isEqualTo(topics.prefix() + ".eval");
            sent = publisher.publish(results, at);
        }

        List<ConsumerRecord<byte[], byte[]>> records = KafkaTestClients.readAll(SharedLocalKafka.bootstrap(),
                topics.eval(), 2, true, Duration.ofSeconds(30));
        assertThat(records).hasSize(2);
        List<EvalEvent> received = records.stream().map(r -> EvalEvent.fromJson(r.value())).toList();
        assertThat(received).containsExactlyElementsOf(sent);
        assertThat(received.stream().map(EvalEvent::result).toList()).containsExactlyElementsOf(results);
        assertThat(records).allSatisfy(r ->
                assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("step-000001200"));
        assertThat(received.get(1).result().hasBaseline()).isFalse();
    }

    @Test
    void aPromotionGoesToThePromotionsTopicKeyedByModality() throws Exception {
        Topics topics = new Topics("pr" + UUID.randomUUID().toString().substring(0, 8));
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (TopicAdmin admin = new TopicAdmin(client)) {
            admin.ensureTopics(new PipelineConfig.TopicSettings(topics.prefix(), 1, null, 1024 * 1024, (short) 1));
        }
        PromotionEvent p = new PromotionEvent(Modality.IMAGE, "step-000001200", 1200, "/ck/step-000001200",
                "fashion-mnist", EvalResult.Protocol.LINEAR, 0.86, "step-000000600", 0.84, "/promoted/image/step-000001200",
                Instant.parse("2026-12-07T07:00:00Z"));
        try (EvalEventPublisher publisher = new EvalEventPublisher(client, topics, Duration.ofSeconds(30))) {
            publisher.publish(p);
        }
        List<ConsumerRecord<byte[], byte[]>> records = KafkaTestClients.readAll(SharedLocalKafka.bootstrap(),
                topics.promotions(), 1, true, Duration.ofSeconds(30));
        assertThat(records).hasSize(1);
        assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("image");
        assertThat(PromotionEvent.fromJson(records.get(0).value())).isEqualTo(p);
    }
}
