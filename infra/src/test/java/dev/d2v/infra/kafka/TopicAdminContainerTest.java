package dev.d2v.infra.kafka;

import static dev.d2v.infra.kafka.LocalKafkaTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.config.PipelineConfig;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The TopicAdmin scenario against a containerised Apache Kafka 4.2.0 broker (the image the deployment files
 * use), to show the admin code does not depend on the local launcher's settings. Skipped without Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class TopicAdminContainerTest {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.2.0");

    @Test
    void createsAndCountsTopicsOnAContainerBroker() {
        PipelineConfig.TopicSettings s = TopicAdminTest.settings(2, 3_600_000L, 4 << 20);
        PipelineConfig.Kafka kafka = new PipelineConfig.Kafka(KAFKA.getBootstrapServers(), null, 0, Map.of());
        try (TopicAdmin admin = new TopicAdmin(kafka);
             KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(KAFKA.getBootstrapServers(), 1 << 20)) {
            assertThat(admin.ensureTopics(s).created()).containsExactlyElementsOf(s.names().all());
            String topic = s.names().all().get(0);
            for (int i = 0; i < 12; i++) {
                producer.send(new ProducerRecord<>(topic, bytes("r" + i)));
            }
            producer.flush();
            List<TopicAdmin.TopicInfo> infos = admin.list(s.names());
            assertThat(infos.get(0).recordCount()).isEqualTo(12);
            assertThat(infos.get(0).partitions()).isEqualTo(2);
            assertThat(infos.get(0).maxMessageBytes()).isEqualTo(4 << 20);
        }
    }
}
