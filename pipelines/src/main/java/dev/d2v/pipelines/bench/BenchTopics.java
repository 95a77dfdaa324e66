package dev.d2v.pipelines.bench;

import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.TopicAdmin;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Throwaway topics for one benchmark run on a broker: a random prefix, one partition each, so that runs never read
 * each other's records.
 *
 * @param prefix the topic prefix ("bench" + 8 hex digits)
 * @param config the default configuration pointed at the broker
 * @param topics the topic names under the prefix
 */
record BenchTopics(String prefix, PipelineConfig config, Topics topics, int maxMessageBytes) {

    static BenchTopics create(String bootstrap) throws Exception {
        String prefix = "bench" + UUID.randomUUID().toString().substring(0, 8);
        PipelineConfig.TopicSettings settings = new PipelineConfig.TopicSettings(prefix, 1, null, null, null);
        PipelineConfig cfg = PipelineConfig.defaults().withBootstrap(bootstrap);
        try (TopicAdmin admin = new TopicAdmin(cfg.kafka())) {
            admin.ensureTopics(settings);
        }
        return new BenchTopics(prefix, cfg, settings.names(), settings.maxMessageBytes());
    }

    /** An acks=all producer that takes the largest record the topics allow. */
    KafkaProducer<byte[], byte[]> producer() {
        Properties p = config.kafka().clientProps();
        p.put("acks", "all");
        p.put("max.request.size", Integer.toString(maxMessageBytes));
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
