package dev.d2v.evaluate.results;

import dev.d2v.infra.Topics;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.PromotionEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes evaluation results on d2v.eval in infra's {@link EvalEvent} codec (version 1 JSON), keyed by
 * checkpoint id so that one checkpoint's results stay in order on one partition. Each publish waits for the
 * broker's acknowledgement: a result is either on the topic or the call fails.
 */
public final class EvalEventPublisher implements AutoCloseable {
    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final String promotions;
    private final Duration timeout;
    private final boolean ownsProducer;

    /**
     * An idempotent producer (acks=all) built from {@code clientProperties} (bootstrap.servers plus any TLS/SASL
     * settings); closed by {@link #close()}.
     */
    public EvalEventPublisher(Properties clientProperties, Topics topics, Duration timeout) {
        this(new KafkaProducer<>(producerProperties(clientProperties), new ByteArraySerializer(), new ByteArraySerializer()),
                topics, timeout, true);
    }

    /** Over a producer the caller owns (and closes). */
    public EvalEventPublisher(Producer<byte[], byte[]> producer, Topics topics, Duration timeout) {
        this(producer, topics, timeout, false);
    }

    private EvalEventPublisher(Producer<byte[], byte[]> producer, Topics topics, Duration timeout, boolean owns) {
        this.producer = producer;
        this.topic = topics.eval();
        this.promotions = topics.promotions();
        this.timeout = timeout;
        this.ownsProducer = owns;
    }

    static Properties producerProperties(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "d2v-evaluate");
        // send() waits this long for the broker's metadata (60 s by default) before publish's own timeout starts
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        return p;
    }

    public String topic() {
        return topic;
    }

    /** Sends one event and waits for the acknowledgement. */
    public RecordMetadata publish(EvalEvent event) {
        return send(new ProducerRecord<>(topic, event.checkpointId().getBytes(StandardCharsets.UTF_8), event.toJson()),
                "the evaluation of " + event.checkpointId());
    }

    /** Sends a promotion to d2v.promotions (keyed by modality) and waits for the acknowledgement. */
    public RecordMetadata publish(PromotionEvent event) {
        return send(new ProducerRecord<>(promotions, event.key(), event.toJson()),
                "the promotion of " + event.checkpointId());
    }

    private RecordMetadata send(ProducerRecord<byte[], byte[]> record, String what) {
        try {
            return producer.send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to " + record.topic(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not publish " + what + " to " + record.topic()
                    + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no acknowledgement from the broker within " + timeout + " for "
                    + record.topic(), e);
        }
    }

    /** Publishes each result as an event stamped {@code createdAt}; returns the events sent. */
    public List<EvalEvent> publish(List<EvalResult> results, Instant createdAt) {
        List<EvalEvent> events = results.stream().map(r -> new EvalEvent(r, createdAt)).toList();
        events.forEach(this::publish);
        return events;
    }

    @Override
    public void close() {
        if (ownsProducer) {
            producer.close(timeout);
        }
    }
}
