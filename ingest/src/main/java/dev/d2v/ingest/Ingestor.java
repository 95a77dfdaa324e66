package dev.d2v.ingest;

import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.RawHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends {@link RawItem}s to d2v.raw.&lt;modality&gt; with an idempotent producer (acks=all): key = sample id,
 * value = the file's bytes, {@link RawHeaders} for content type, source, label and split.
 *
 * <p>Unreadable items (I/O errors, invalid JSONL lines) and items larger than the largest record the topics
 * take are reported, counted, skipped and dead-lettered (without their value); nothing is dropped silently. A send the broker refuses counts as
 * failed and makes the run's summary unsuccessful.
 */
public final class Ingestor {

    /**
     * @param limit            stop after this many records sent (0 = all)
     * @param recordsPerSecond rate limit (0 = as fast as the broker takes them)
     * @param maxRecordBytes   items above this are skipped as oversized (the topics' max.message.bytes less headroom)
     */
    public record Options(long limit, double recordsPerSecond, int maxRecordBytes) {
        public Options {
            if (limit < 0 || recordsPerSecond < 0 || maxRecordBytes <= 0) {
                throw new IllegalArgumentException("limit and rate must be >= 0, maxRecordBytes > 0");
            }
        }
    }

    /** One item that could not be sent, and why. */
    public record Skipped(String id, String source, String reason) {
    }

    /**
     * What a run did. {@code ok()} is false when any send failed.
     *
     * @param alreadySent items the ingest journal names as on their topic already: not sent again
     */
    public record Summary(long sent, long bytes, Map<String, Long> perTopic, List<Skipped> skipped, long failedSends,
                          double seconds, long alreadySent) {
        public boolean ok() {
            return failedSends == 0;
        }

        public double recordsPerSecond() {
            return seconds <= 0 ? 0 : sent / seconds;
        }
    }

    /** Room under the topics' max.message.bytes for a record's key, headers and batch framing. */
    public static final int RECORD_HEADROOM_BYTES = 64 * 1024;

    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    private final Options options;
    private final Consumer<Skipped> onSkip;
    private IngestJournal journal;
    private boolean again;

    public Ingestor(Producer<byte[], byte[]> producer, Topics topics, Options options, Consumer<Skipped> onSkip) {
        this.producer = producer;
        this.topics = topics;
        this.options = options;
        this.onSkip = onSkip == null ? s -> { } : onSkip;
    }

    /**
     * Journals every acknowledged record, and skips the items the journal names (unless {@code again}: then every
     * item is sent, as a new copy).
     */
    public Ingestor withJournal(IngestJournal j, boolean sendAgain) {
        this.journal = j;
        this.again = sendAgain;
        return this;
    }

    /** Producer settings for raw ingestion: idempotent, acks=all, records up to the topics' size limit. */
    public static Properties producerProperties(Properties client, int maxMessageBytes) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxMessageBytes));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        // one request in flight: ingestion often follows the creation of its topics, and a loaded broker can answer the
        // first batch NOT_LEADER_OR_FOLLOWER, then take the next one (already in flight) as the partition's first write;
        // the retried first batch then fails OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (KAFKA-15591).
        // Batches of 256 KiB keep the throughput; the preprocessing jobs, not ingestion, are the pipeline's slow stage
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    public static KafkaProducer<byte[], byte[]> producer(Properties client, int maxMessageBytes) {
        return new KafkaProducer<>(producerProperties(client, maxMessageBytes));
    }

    /**
     * Sends the items to the configured cluster's raw topics with a progress bar: a producer of {@link #producer} for
     * the configuration's brokers and record size limit, items within it less headroom for key, headers and batch
     * framing. What `./d2v ingest` and the demo's ingestion run.
     *
     * @param label progress bar label, e.g. "ingest"
     */
    public static Summary send(PipelineConfig config, Stream<RawItem> items, long limit, double recordsPerSecond,
                               String label, Consumer<Skipped> onSkip) {
        return send(config, items, limit, recordsPerSecond, label, onSkip, false);
    }

    /**
     * The same, journaled ({@link IngestJournal} under {@code <data.cacheDir>/ingest}): items whose id the journal
     * names as on their topic already are not sent again, unless {@code again}.
     */
    public static Summary send(PipelineConfig config, Stream<RawItem> items, long limit, double recordsPerSecond,
                               String label, Consumer<Skipped> onSkip, boolean again) {
        int maxMessageBytes = config.topics().maxMessageBytes();
        Options options = new Options(limit, recordsPerSecond, maxMessageBytes - RECORD_HEADROOM_BYTES);
        try (IngestJournal journal = IngestJournals.open(config);
             KafkaProducer<byte[], byte[]> producer = producer(config.kafka().clientProps(), maxMessageBytes);
             Progress progress = new Progress(label, limit)) {
            return new Ingestor(producer, config.topicNames(), options, onSkip).withJournal(journal, again)
                    .run(items, progress);
        }
    }

    /** Sends every item (up to the limit), waits for all acknowledgements, and returns the summary. */
    public Summary run(Stream<RawItem> items, Progress progress) {
        long start = System.nanoTime();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        Map<String, Long> perTopic = new TreeMap<>();
        List<Skipped> skipped = new ArrayList<>();
        long sent = 0;
        long bytes = 0;
        long already = 0;
        Iterator<RawItem> it = items.iterator();
        boolean stopped = false;
        while (it.hasNext() && (options.limit() == 0 || sent < options.limit())) {
            if (failed.get() > 0) {
                // the broker stopped taking records: each further send would wait max.block.ms for it
                stopped = true;
                break;
            }
            RawItem item = it.next();
            if (journal != null && !again && journal.contains(topics.raw(item.modality()), item.id())) {
                already++;
                continue;
            }
            byte[] value;
            try {
                value = item.bytes().get();
            } catch (IOException | RuntimeException e) {
                skip(skipped, item, UNREADABLE, e);
                continue;
            }
            if (value.length > options.maxRecordBytes()) {
                skip(skipped, item, OVERSIZED, new RecordTooLargeException(value.length + " bytes > the largest record"
                        + " the topics take (" + options.maxRecordBytes() + ")"));
                continue;
            }
            throttle(start, sent);
            String topic = topics.raw(item.modality());
            RawHeaders headers = new RawHeaders(item.contentType(), item.source(), item.label(), item.split(),
                    System.currentTimeMillis());
            ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, null,
                    item.id().getBytes(StandardCharsets.UTF_8), value, headers.toKafka());
            String id = item.id();
            producer.send(rec, (meta, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e);
                } else if (journal != null) {
                    journal.acked(meta.topic(), meta.partition(), meta.offset(), id);
                }
            });
            perTopic.merge(topic, 1L, Long::sum);
            sent++;
            bytes += value.length;
            if (progress != null) {
                progress.step(1);
            }
        }
        producer.flush();
        if (journal != null) {
            journal.flush();
        }
        if (firstFailure.get() != null) {
            skipped.add(new Skipped("-", "-", failed.get() + " sends failed, first: " + describe(firstFailure.get())
                    + (stopped ? "; stopped sending there (a rerun sends the rest: the ingest journal skips what"
                    + " arrived)" : "")));
        }
        return new Summary(sent - failed.get(), bytes, perTopic, skipped, failed.get(),
                (System.nanoTime() - start) / 1e9, already);
    }

    /**
     * Reports an item that is not sent, and puts its dead letter on d2v.deadletter: stage
     * {@code ingest.<modality>.<reason>}, the key and the raw headers it would have had, no value (an oversized one
     * would not fit the topic either; the source names the file), the error's class and message.
     */
    private void skip(List<Skipped> skipped, RawItem item, String reason, Throwable error) {
        Skipped s = new Skipped(item.id(), item.source(), reason + ": " + describe(error));
        skipped.add(s);
        onSkip.accept(s);
        RawHeaders headers = new RawHeaders(item.contentType(), item.source(), item.label(), item.split(),
                System.currentTimeMillis());
        DeadLetter d = DeadLetter.of("", -1, -1, item.id().getBytes(StandardCharsets.UTF_8), null, headers.toKafka(),
                STAGE + "." + item.modality().id() + "." + reason, error, System.currentTimeMillis());
        producer.send(d.toProducerRecord(topics.deadLetter()));
    }

    /** Stage prefix of ingest's dead letters: {@code ingest.<modality>.<reason>}. */
    public static final String STAGE = "ingest";
    /** Reason: the file or line could not be read (I/O error, invalid JSONL line). */
    public static final String UNREADABLE = "unreadable";
    /** Reason: larger than the largest record the topics take, less headroom for key and headers. */
    public static final String OVERSIZED = "oversized";

    /** Sleeps so that sent / elapsed stays at or below the configured rate. */
    private void throttle(long startNs, long sent) {
        if (options.recordsPerSecond() <= 0) {
            return;
        }
        long dueNs = startNs + (long) (sent / options.recordsPerSecond() * 1e9);
        long waitNs = dueNs - System.nanoTime();
        if (waitNs > 0) {
            try {
                Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
