package dev.d2v.ingest;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Opens the {@link IngestJournal} of a configured cluster and brings it up to date before a run: the journal of
 * {@code <data.cacheDir>/ingest/journal-<cluster id>-<topic prefix>.txt}, the records written after the last run
 * began that no acknowledgement names read back and journaled (they are on the topic: not sent again), and a new
 * begin marker at the raw topics' end offsets.
 */
final class IngestJournals {

    private IngestJournals() {}

    static IngestJournal open(PipelineConfig config) {
        Properties client = config.kafka().clientProps();
        try (Admin admin = Admin.create(client)) {
            String cluster = admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
            List<String> raw = new ArrayList<>();
            for (Modality m : Modality.values()) {
                raw.add(config.topicNames().raw(m));
            }
            Map<String, String> ids = new HashMap<>();
            Map<String, Integer> partitions = new HashMap<>();
            for (var d : admin.describeTopics(raw).topicNameValues().entrySet()) {
                TopicDescription t;
                try {
                    t = d.getValue().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException missing) {   // a modality's topic not created: nothing to journal there
                    continue;
                }
                ids.put(d.getKey(), t.topicId().toString());
                partitions.put(d.getKey(), t.partitions().size());
            }
            Path file = config.data().cachePath().resolve("ingest")
                    .resolve("journal-" + cluster + "-" + config.topics().prefix() + ".txt");
            IngestJournal journal = IngestJournal.open(file, ids);
            try (KafkaConsumer<byte[], byte[]> consumer = consumer(client)) {
                for (String topic : ids.keySet()) {
                    List<TopicPartition> tps = new ArrayList<>();
                    for (int p = 0; p < partitions.get(topic); p++) {
                        tps.add(new TopicPartition(topic, p));
                    }
                    Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(60));
                    reconcile(consumer, journal, topic, end);
                    Map<Integer, Long> marker = new HashMap<>();
                    end.forEach((tp, o) -> marker.put(tp.partition(), o));
                    journal.begin(topic, marker);
                }
            }
            return journal;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the raw topics to bring the ingest journal up to date (are the"
                    + " topics there? `./d2v kafka topics` creates them): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while opening the ingest journal", e);
        }
    }

    /** Journals the keyed records in [unconfirmedFrom, end) of each partition of topic. */
    private static void reconcile(KafkaConsumer<byte[], byte[]> consumer, IngestJournal journal, String topic,
                                  Map<TopicPartition, Long> end) {
        Map<Integer, Long> from = journal.unconfirmedFrom(topic);
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            long start = from.getOrDefault(e.getKey().partition(), e.getValue());
            if (start >= e.getValue()) {
                continue;
            }
            consumer.assign(List.of(e.getKey()));
            consumer.seek(e.getKey(), start);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (consumer.position(e.getKey()) < e.getValue() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && r.offset() < e.getValue()) {
                        journal.acked(topic, r.partition(), r.offset(), new String(r.key(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        journal.flush();
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
