package dev.d2v.infra.kafka;

import static dev.d2v.infra.kafka.LocalKafkaTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalKafkaExtension.class)
class TopicAdminTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Settings with a fresh prefix, so that tests sharing the broker never see each other's topics. */
    static PipelineConfig.TopicSettings settings(int partitions, long retentionMs, int maxMessageBytes) {
        String prefix = "t" + UUID.randomUUID().toString().substring(0, 8);
        return new PipelineConfig.TopicSettings(prefix, partitions, retentionMs, maxMessageBytes, (short) 1);
    }

    @Test
    void specsGiveDataTopicsTheSettingsAndEventTopicsOnePartition() {
        PipelineConfig.TopicSettings s = new PipelineConfig.TopicSettings("p", 5, 3_600_000L, 2 << 20, (short) 3);
        Map<String, TopicAdmin.TopicSpec> specs = TopicAdmin.specs(s).stream()
                .collect(Collectors.toMap(TopicAdmin.TopicSpec::name, t -> t));
        assertThat(specs.keySet()).containsExactlyInAnyOrderElementsOf(s.names().all());
        assertThat(specs.get("p.raw.audio")).isEqualTo(new TopicAdmin.TopicSpec("p.raw.audio", 5, (short) 3, 3_600_000L, 2 << 20));
        assertThat(specs.get("p.batch.text").partitions()).isEqualTo(5);
        assertThat(specs.get("p.checkpoints")).isEqualTo(new TopicAdmin.TopicSpec("p.checkpoints", 1, (short) 3, -1L, 2 << 20));
        assertThat(specs.get("p.eval").retentionMs()).isEqualTo(-1L);
        assertThat(specs.get("p.deadletter")).isEqualTo(new TopicAdmin.TopicSpec("p.deadletter", 1, (short) 3, 3_600_000L, 2 << 20));
    }

    @Test
    void formatTableShowsOneRowPerTopic() {
        String table = TopicAdmin.formatTable(List.of(
                new TopicAdmin.TopicInfo("d2v.raw.image", 2, 1234, 604_800_000L, 16 << 20),
                new TopicAdmin.TopicInfo("d2v.checkpoints", 1, 0, -1, 1024)));
        List<String> lines = table.lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).contains("d2v.raw.image", "1234", "7d", "16.0 MiB");
        assertThat(lines.get(2)).contains("d2v.checkpoints", "forever", "1.0 KiB");
    }

    @Test
    void ensureTopicsCreatesMissingTopicsWithTheirSettingsOnce(LocalKafka kafka) throws Exception {
        PipelineConfig.TopicSettings s = settings(3, 3_600_000L, 8 << 20);
        try (TopicAdmin admin = new TopicAdmin(kafka.kafkaConfig())) {
            TopicAdmin.EnsureResult first = admin.ensureTopics(s);
            assertThat(first.created()).containsExactlyElementsOf(s.names().all());
            assertThat(first.existing()).isEmpty();

            String raw = s.names().raw(Modality.IMAGE);
            String checkpoints = s.names().checkpoints();
            Map<String, TopicDescription> d = admin.admin().describeTopics(List.of(raw, checkpoints)).allTopicNames().get();
            assertThat(d.get(raw).partitions()).hasSize(3);
            assertThat(d.get(checkpoints).partitions()).hasSize(1);
            Config rawConfig = admin.admin().describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, raw)))
                    .all().get().values().iterator().next();
            assertThat(rawConfig.get("retention.ms").value()).isEqualTo("3600000");
            assertThat(rawConfig.get("max.message.bytes").value()).isEqualTo(Integer.toString(8 << 20));

            TopicAdmin.EnsureResult second = admin.ensureTopics(s);
            assertThat(second.created()).isEmpty();
            assertThat(second.existing()).containsExactlyElementsOf(s.names().all());
            assertThat(admin.missing(s.names())).isEmpty();
            assertThat(admin.missing(new Topics(s.prefix() + "x"))).hasSize(s.names().all().size());
        }
    }

    @Test
    void listCountsWhatWasProduced(LocalKafka kafka) {
        PipelineConfig.TopicSettings s = settings(2, 604_800_000L, 1 << 20);
        Topics names = s.names();
        Random random = new Random(7);
        try (TopicAdmin admin = new TopicAdmin(kafka.kafkaConfig());
             KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(kafka.bootstrap(), 1 << 20)) {
            admin.ensureTopics(s);
            List<Integer> produced = new ArrayList<>();
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (String topic : names.all()) {
                // the new topics' leaders are known before the first send, so that no record waits on metadata
                assertThat(producer.partitionsFor(topic)).isNotEmpty();
                int n = random.nextInt(30);
                produced.add(n);
                for (int i = 0; i < n; i++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, bytes("r" + i))));
                }
            }
            producer.flush();
            // every delivery acknowledged: a failed send fails here with its cause, not later as a wrong count
            for (Future<RecordMetadata> f : sent) {
                assertThat(f).succeedsWithin(Duration.ofMinutes(2));
            }

            List<TopicAdmin.TopicInfo> infos = admin.list(names);
            assertThat(infos).extracting(TopicAdmin.TopicInfo::name).containsExactlyElementsOf(names.all());
            assertThat(infos).extracting(t -> (int) t.recordCount()).containsExactlyElementsOf(produced);
            TopicAdmin.TopicInfo raw = infos.get(0);
            assertThat(raw.partitions()).isEqualTo(2);
            assertThat(raw.retentionMs()).isEqualTo(604_800_000L);
            assertThat(raw.maxMessageBytes()).isEqualTo(1 << 20);
            assertThat(infos.get(names.all().indexOf(names.eval())).retentionMs()).isEqualTo(-1L);
            assertThat(TopicAdmin.formatTable(infos)).contains(names.checkpoints());
        }
    }

    @Test
    void offsetSpanCountsTransactionMarkersButCommittedCountDoesNot(LocalKafka kafka) throws InterruptedException {
        PipelineConfig.TopicSettings s = settings(1, 604_800_000L, 1 << 20);
        String topic = s.names().deadLetter();
        try (TopicAdmin admin = new TopicAdmin(kafka.kafkaConfig())) {
            admin.ensureTopics(s);
            try (KafkaProducer<byte[], byte[]> tx = KafkaTestClients.transactionalProducer(kafka.bootstrap(), "tx-" + topic)) {
                tx.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    tx.send(new ProducerRecord<>(topic, bytes("c" + i)));
                }
                tx.commitTransaction();
                tx.beginTransaction();
                for (int i = 0; i < 3; i++) {
                    tx.send(new ProducerRecord<>(topic, bytes("a" + i)));
                }
                tx.flush();
                tx.abortTransaction();
            }
            // 5 committed + commit marker + 3 aborted + abort marker, all on the one partition; the coordinator
            // writes the abort marker after abortTransaction returns, so on a loaded machine it may come a moment later
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (admin.list(List.of(topic)).get(0).recordCount() < 10 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(admin.list(List.of(topic)).get(0).recordCount()).isEqualTo(10);
            assertThat(admin.committedCount(topic, WAIT)).isEqualTo(5);
        }
    }

    @Test
    void aFiveMegabyteRecordPassesTheBrokerAndTopicLimits(LocalKafka kafka) {
        PipelineConfig.TopicSettings s = settings(1, 604_800_000L, 8 << 20);
        String topic = s.names().batch(Modality.AUDIO);
        byte[] big = new byte[5 << 20];
        new Random(11).nextBytes(big);
        try (TopicAdmin admin = new TopicAdmin(kafka.kafkaConfig())) {
            admin.ensureTopics(s);
        }
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(kafka.bootstrap(), s.maxMessageBytes())) {
            producer.send(new ProducerRecord<>(topic, bytes("big"), big)).get();
        } catch (Exception e) {
            throw new AssertionError("a 5 MB record must be accepted", e);
        }
        List<ConsumerRecord<byte[], byte[]>> read = KafkaTestClients.readAll(kafka.bootstrap(), topic, 1, false, WAIT);
        assertThat(read).hasSize(1);
        assertThat(read.get(0).value()).isEqualTo(big);
    }
}
