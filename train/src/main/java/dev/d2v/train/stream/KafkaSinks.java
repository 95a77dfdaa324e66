package dev.d2v.train.stream;

import dev.d2v.infra.Topics;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What the trainer writes to Kafka: dead letters (d2v.deadletter) and checkpoint events (d2v.checkpoints, key = the
 * checkpoint id). One idempotent producer; sends are asynchronous, so a broker outage never blocks training (the
 * producer retries for delivery.timeout.ms; a send that still fails is reported to the log). A checkpoint is on disk
 * before its event is sent: the event may be lost in an outage, the checkpoint is not.
 */
public final class KafkaSinks implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final Topics topics;
    private final Consumer<String> log;

    public KafkaSinks(Properties clientProps, Topics topics, Consumer<String> log) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // a dead letter carries the whole failed minibatch
        p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(17 * 1024 * 1024));
        // send() waits at most this long for metadata when the broker is down, then the failure is logged
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        this.topics = topics;
        this.log = log;
    }

    public void deadLetter(DeadLetter d) {
        send(d.toProducerRecord(topics.deadLetter()), "dead letter of " + d.topic() + "@" + d.offset());
    }

    public void checkpoint(CheckpointEvent e) {
        send(new ProducerRecord<>(topics.checkpoints(), e.checkpointId().getBytes(StandardCharsets.UTF_8), e.toJson()),
                "checkpoint event " + e.checkpointId());
    }

    private void send(ProducerRecord<byte[], byte[]> r, String what) {
        try {
            producer.send(r, (meta, error) -> {
                if (error != null) {
                    log.accept("could not write the " + what + " to " + r.topic() + ": " + error.getMessage());
                }
            });
        } catch (RuntimeException e) {   // metadata not available within max.block.ms
            log.accept("could not write the " + what + " to " + r.topic() + ": " + e.getMessage());
        }
    }

    /** Waits for the sends in flight (at shutdown). */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
