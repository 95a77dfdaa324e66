package dev.d2v.infra.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Plain byte[] clients for tests against a local broker (also reused by other modules' tests). */
public final class KafkaTestClients {
    private KafkaTestClients() {
    }

    /** An idempotent producer; max.request.size raised to {@code maxRequestBytes} for large records. */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap, int maxRequestBytes) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxRequestBytes));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // a loaded machine can hold the broker's answer past the 2-minute default; keep retrying instead of dropping
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        // one request at a time: tests write to topics created a moment before, and a loaded broker can answer the first
        // batch NOT_LEADER_OR_FOLLOWER, then take the next one, already in flight, as the partition's first write; the
        // retried first batch is then OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout, and its records are lost
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * A producer whose every send is checked: {@link Checked#flush()} and {@link Checked#close()} wait for each
     * acknowledgement and fail with the record's key and the broker's error. A plain {@code send} that the broker never
     * acknowledged (its delivery timeout passed on a loaded machine) is dropped silently, and the test then reports a
     * missing batch far from the cause.
     */
    public static Checked checkedProducer(String bootstrap, int maxRequestBytes) {
        return new Checked(producer(bootstrap, maxRequestBytes));
    }

    /** See {@link #checkedProducer}. */
    public static final class Checked implements AutoCloseable {
        private final KafkaProducer<byte[], byte[]> producer;
        private final List<Map.Entry<byte[], Future<RecordMetadata>>> pending = new ArrayList<>();

        Checked(KafkaProducer<byte[], byte[]> producer) {
            this.producer = producer;
        }

        public void send(ProducerRecord<byte[], byte[]> r) {
            pending.add(Map.entry(r.key() == null ? new byte[0] : r.key(), producer.send(r)));
        }

        /** Waits for every record sent so far; throws if one was not acknowledged. */
        public void flush() {
            producer.flush();
            for (Map.Entry<byte[], Future<RecordMetadata>> e : pending) {
                try {
                    e.getValue().get();
                } catch (ExecutionException ex) {
                    String key = new String(e.getKey(), StandardCharsets.UTF_8);
                    throw new IllegalStateException("test record " + key.substring(0, Math.min(key.length(), 40))
                            + " was not acknowledged by the broker: " + ex.getCause(), ex.getCause());
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for an acknowledgement", ex);
                }
            }
            pending.clear();
        }

        @Override
        public void close() {
            try {
                flush();
            } finally {
                producer.close();
            }
        }
    }

    /** A transactional producer with {@code initTransactions()} already called. */
    public static KafkaProducer<byte[], byte[]> transactionalProducer(String bootstrap, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        // fail fast in tests instead of the 60 s default if the transaction coordinator never comes up
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    /**
     * Reads every partition of {@code topic} from the beginning (no consumer group) until {@code expected}
     * records arrived or {@code timeout} passed, then polls once more briefly to catch any extra records.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic, int expected,
                                                               boolean readCommitted, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return readAll(p, topic, expected, readCommitted, timeout);
    }

    /** The same with the given client properties (bootstrap servers and, for a secured broker, its credentials). */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(Properties client, String topic, int expected,
                                                               boolean readCommitted, Duration timeout) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, timeout).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            c.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }
}
