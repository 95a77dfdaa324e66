package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import java.util.HashMap;

/**
 * The demo's "run the preprocessing job again?" decision against the real local broker: raw topics with records, the
 * job's consumer group with committed offsets below, at and without any commit.
 */
class PreprocessProgressTest {

    @Test
    void runsWhileAnyRawPartitionIsAheadOfTheJobsCommittedOffsets() throws Exception {
        String prefix = "progress-" + UUID.randomUUID().toString().substring(0, 8);
        Topics topics = new Topics(prefix);
        String image = topics.raw(Modality.IMAGE);
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(image, 2, (short) 1), new NewTopic(topics.raw(Modality.TEXT), 1, (short) 1)))
                    .all().get();
            try (KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(SharedLocalKafka.bootstrap(), 1 << 20)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(image, i < 6 ? 0 : 1, ("k" + i).getBytes(), new byte[] {1})).get();
                }
            }
            List<Modality> both = List.of(Modality.IMAGE, Modality.TEXT);

            // never run: nothing committed, everything to do; the empty text topic has nothing to do
            List<PreprocessProgress> fresh = PreprocessProgress.read(admin, prefix, both);
            assertThat(fresh.get(0)).isEqualTo(new PreprocessProgress(Modality.IMAGE, image, 10, 0, 2));
            assertThat(fresh.get(1).complete()).isTrue();
            assertThat(PreprocessProgress.needsRun(fresh)).isTrue();
            assertThat(fresh.get(0).describe()).isEqualTo("raw image: 10 records, preprocessed 0; preprocessing");

            // interrupted: the last completed checkpoint committed 4 of partition 0's 6 and all of partition 1's 4
            String group = PreprocessJobConfig.groupId(prefix, Modality.IMAGE);
            commit(admin, group, Map.of(new TopicPartition(image, 0), 4L, new TopicPartition(image, 1), 4L));
            List<PreprocessProgress> interrupted = PreprocessProgress.read(admin, prefix, both);
            assertThat(interrupted.get(0)).isEqualTo(new PreprocessProgress(Modality.IMAGE, image, 10, 8, 1));
            assertThat(PreprocessProgress.needsRun(interrupted)).as("run").isTrue();
            assertThat(PreprocessProgress.behind(interrupted)).containsExactly(Modality.IMAGE);
            assertThat(interrupted.get(0).describe()).isEqualTo("raw image: 10 records, preprocessed 8; resuming preprocessing");

            // finished, its last commit lost: the demo records the ends it read before the run (never moving a
            // commit back: partition 1 stays at 4 although a stale read said 3)
            Map<TopicPartition, Long> ends = PreprocessProgress.rawEnds(admin, prefix, both);
            assertThat(ends).containsEntry(new TopicPartition(image, 0), 6L).containsEntry(new TopicPartition(image, 1), 4L)
                    .containsEntry(new TopicPartition(topics.raw(Modality.TEXT), 0), 0L);
            ends.put(new TopicPartition(image, 1), 3L);
            PreprocessProgress.markDrained(admin, prefix, List.of(Modality.IMAGE), ends);
            var marked = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(marked.get(new TopicPartition(image, 0)).offset()).isEqualTo(6L);
            assertThat(marked.get(new TopicPartition(image, 1)).offset()).isEqualTo(4L);
            List<PreprocessProgress> finished = PreprocessProgress.read(admin, prefix, both);
            assertThat(finished.get(0)).isEqualTo(new PreprocessProgress(Modality.IMAGE, image, 10, 10, 0));
            assertThat(PreprocessProgress.needsRun(finished)).as("skip").isFalse();
            assertThat(finished.get(0).describe()).isEqualTo("raw image: 10 records, preprocessed 10; nothing left to preprocess");

            // another group's offsets (another prefix's job) do not count
            commit(admin, PreprocessJobConfig.groupId(prefix + "-other", Modality.TEXT), Map.of(new TopicPartition(image, 0), 0L));
            assertThat(PreprocessProgress.read(admin, prefix, both)).isEqualTo(finished);
        }
    }

    private static void commit(Admin admin, String group, Map<TopicPartition, Long> offsets) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        offsets.forEach((tp, o) -> m.put(tp, new OffsetAndMetadata(o)));
        admin.alterConsumerGroupOffsets(group, m).all().get();
    }
}
