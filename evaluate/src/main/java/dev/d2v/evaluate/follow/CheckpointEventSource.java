package dev.d2v.evaluate.follow;

import dev.d2v.infra.Topics;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads checkpoint events from d2v.checkpoints for the {@link CheckpointFollower}: a consumer in its own group,
 * read_committed, no auto-commit (offsets are committed by {@link #commit()} after the events were handled, so a
 * stop in between redelivers them and the follower's state skips what was finished), from the earliest event
 * on the first start. A record that is not a valid checkpoint event is logged and skipped, never fatal.
 */
public final class CheckpointEventSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointEventSource.class);

    /**
     * @param events    valid events in topic order
     * @param malformed one line per skipped record (offset and decoder message)
     */
    public record Poll(List<CheckpointEvent> events, List<String> malformed) {
    }

    private final KafkaConsumer<byte[], byte[]> consumer;

    /**
     * @param clientProperties bootstrap.servers plus any TLS/SASL settings
     * @param groupId          the evaluator's consumer group (one per evaluator deployment)
     */
    public CheckpointEventSource(Properties clientProperties, Topics topics, String groupId) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // an evaluation can take many minutes between polls: the group must not evict the evaluator meanwhile
        p.putIfAbsent(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Integer.toString(6 * 60 * 60 * 1000));
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topics.checkpoints()));
    }

    /** Waits up to {@code timeout} for events. */
    public Poll poll(Duration timeout) {
        List<CheckpointEvent> events = new ArrayList<>();
        List<String> malformed = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            try {
                events.add(CheckpointEvent.fromJson(r.value() == null ? new byte[0] : r.value()));
            } catch (WireFormatException e) {
                String line = r.topic() + "-" + r.partition() + "@" + r.offset() + ": " + e.getMessage();
                LOG.warn("skipping a record that is not a checkpoint event: {}", line);
                malformed.add(line);
            }
        }
        return new Poll(events, malformed);
    }

    /**
     * Commits the offsets of everything polled so far (call after the follower handled it).
     *
     * @throws KafkaUnavailableException the broker did not take the commit (the events come again; the follower's
     *                                   state skips those it finished)
     */
    public void commit() throws KafkaUnavailableException {
        try {
            consumer.commitSync(COMMIT_TIMEOUT);
        } catch (KafkaException e) {
            throw new KafkaUnavailableException("could not commit the position on " + consumer.subscription() + ": "
                    + e.getMessage(), e);
        }
    }

    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(30);

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(10));
    }
}
