package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The batch topics, one consumer and one prefetch thread per modality. Each consumer is assigned every partition of
 * d2v.batch.&lt;modality&gt; (no consumer group: the checkpoint, not Kafka, holds the position), seeks to the
 * checkpoint's offset of each partition (the beginning for a partition the checkpoint does not name), reads
 * read_committed, decodes each record and puts it on a bounded queue. The queue and {@code max.poll.records} bound
 * the memory: at most capacity + 2 decoded minibatches per modality.
 *
 * <p>A broker outage is no error here: {@code poll} keeps reconnecting and returns nothing meanwhile, so the loop
 * waits, and continues from the same offsets when the broker is back.
 */
public final class KafkaBatchSource implements BatchSource {

    /** Stage of the trainer's dead letters: {@code train.<modality>.<reason>}. */
    public static final String STAGE = "train";
    /** Reason: the record is not a minibatch this build reads (wire version, CRC, truncation, no value). */
    public static final String UNDECODABLE = "undecodable";
    /** Reason: a minibatch of another modality on this modality's topic. */
    public static final String WRONG_TOPIC = "wrong-topic";
    /** Reason: made with other transform settings or another vocabulary than the trainer's. */
    public static final String CONFIG_HASH = "config-hash";

    private final Map<Modality, Prefetcher> prefetchers = new EnumMap<>(Modality.class);

    private KafkaBatchSource() {}

    /**
     * Starts the prefetch threads.
     *
     * @param clientProps bootstrap servers and any security settings of the cluster
     * @param offsets     "topic:partition" -> next offset to read, from the checkpoint (empty: from the beginning)
     * @param configHashes modality -> the preprocessing config hash the trainer expects (its transform settings and
     *                    vocabulary); a batch carrying another one is refused to the dead-letter topic. A modality
     *                    not in the map is not checked (benchmarks feeding synthetic batches).
     * @param log         one-line messages (waiting for a topic)
     */
    public static KafkaBatchSource open(Properties clientProps, Topics topics, Collection<Modality> modalities,
                                        Map<String, Long> offsets, int queueCapacity, MinibatchCodec codec,
                                        Map<Modality, Long> configHashes, Consumer<String> log) {
        KafkaBatchSource s = new KafkaBatchSource();
        for (Modality m : modalities) {
            Prefetcher p = new Prefetcher(m, topics.batch(m), consumerProps(clientProps), offsets, queueCapacity, codec,
                    configHashes.get(m), log);
            s.prefetchers.put(m, p);
            p.thread.start();
        }
        return s;
    }

    /** read_committed, no group, no auto commit, few records per poll (each is a whole minibatch). */
    static Properties consumerProps(Properties clientProps) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2");
        // reconnect quickly after an outage, but do not hammer a broker that is down
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "2000");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "d2v-trainer");
        return p;
    }

    @Override
    public Fetched poll(Modality m, Duration wait) throws InterruptedException {
        Prefetcher p = prefetchers.get(m);
        if (p == null) {
            throw new IllegalArgumentException("this source does not read " + m.id() + "; it reads " + prefetchers.keySet());
        }
        Fetched f = p.queue.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        if (f == null && p.failure != null) {
            throw new IllegalStateException("reading " + p.topic + " failed: " + p.failure.getMessage(), p.failure);
        }
        return f;
    }

    @Override
    public long lag(Modality m, Map<String, Long> trained) {
        Prefetcher p = prefetchers.get(m);
        if (p == null || p.end.isEmpty()) {
            return -1;
        }
        long lag = 0;
        for (Map.Entry<String, Long> e : p.end.entrySet()) {
            Long from = trained.getOrDefault(e.getKey(), p.start.get(e.getKey()));
            lag += from == null ? 0 : Math.max(0, e.getValue() - from);
        }
        return lag;
    }

    @Override
    public void close() {
        prefetchers.values().forEach(Prefetcher::stop);
        for (Prefetcher p : prefetchers.values()) {
            try {
                p.thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One modality's consumer, on its own thread (a KafkaConsumer is single-threaded). */
    private static final class Prefetcher implements Runnable {
        final Modality modality;
        final String topic;
        final Properties props;
        final Map<String, Long> offsets;
        final MinibatchCodec codec;
        /** The preprocessing config hash a batch must carry, or null for no check. */
        final Long configHash;
        final Consumer<String> log;
        final BlockingQueue<Fetched> queue;
        final Thread thread;
        /** "topic:partition" -> log end (last stable offset under read_committed), as of the last fetch. */
        final Map<String, Long> end = new ConcurrentHashMap<>();
        /** "topic:partition" -> where reading started. */
        final Map<String, Long> start = new ConcurrentHashMap<>();
        volatile boolean running = true;
        volatile RuntimeException failure;
        volatile KafkaConsumer<byte[], byte[]> consumer;

        Prefetcher(Modality m, String topic, Properties props, Map<String, Long> offsets, int capacity,
                   MinibatchCodec codec, Long configHash, Consumer<String> log) {
            this.modality = m;
            this.topic = topic;
            this.props = props;
            this.offsets = Map.copyOf(offsets);
            this.codec = codec;
            this.configHash = configHash;
            this.log = log;
            this.queue = new ArrayBlockingQueue<>(capacity);
            this.thread = new Thread(this, "d2v-prefetch-" + m.id());
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                consumer = c;
                if (!running) {
                    return;
                }
                List<TopicPartition> parts = awaitPartitions(c);
                if (parts.isEmpty()) {
                    return;
                }
                c.assign(parts);
                for (TopicPartition tp : parts) {
                    Long next = offsets.get(CheckpointEvent.offsetKey(tp));
                    if (next != null) {
                        c.seek(tp, next);
                    } else {
                        c.seekToBeginning(List.of(tp));
                    }
                }
                while (running) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                        start.putIfAbsent(CheckpointEvent.offsetKey(r.topic(), r.partition()), r.offset());
                        if (!offer(decode(r))) {
                            return;
                        }
                    }
                    for (TopicPartition tp : c.assignment()) {
                        OptionalLong lag = c.currentLag(tp);
                        if (lag.isPresent()) {
                            try {
                                end.put(CheckpointEvent.offsetKey(tp), c.position(tp, Duration.ZERO) + lag.getAsLong());
                            } catch (TimeoutException notYetKnown) {
                                // the position is looked up by the next poll
                            }
                        }
                    }
                }
            } catch (WakeupException stopping) {
                // close() woke the consumer
            } catch (RuntimeException e) {
                if (running) {
                    failure = e;
                }
            }
        }

        /** Partitions of the topic, retried while the topic does not exist yet or the broker is not reachable. */
        private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> c) {
            boolean told = false;
            while (running) {
                List<PartitionInfo> infos;
                try {
                    infos = c.partitionsFor(topic, Duration.ofSeconds(5));
                } catch (TimeoutException e) {
                    infos = List.of();
                }
                if (infos != null && !infos.isEmpty()) {
                    List<TopicPartition> out = new ArrayList<>();
                    infos.forEach(i -> out.add(new TopicPartition(topic, i.partition())));
                    out.sort(Comparator.comparingInt(TopicPartition::partition));
                    return out;
                }
                if (!told) {
                    log.accept("waiting for topic " + topic + " (not there yet, or the broker is not reachable)");
                    told = true;
                }
                sleep(1000);
            }
            return List.of();
        }

        private Fetched decode(ConsumerRecord<byte[], byte[]> r) {
            String stage = STAGE + "." + modality.id() + ".";
            Minibatch b;
            try {
                b = codec.decode(r.value());
            } catch (RuntimeException e) {   // WireFormatException (version, CRC, truncation), a null value, ...
                return failed(r, stage + UNDECODABLE, e);
            }
            if (b.modality() != modality) {
                return failed(r, stage + WRONG_TOPIC,
                        new IllegalArgumentException("a " + b.modality().id() + " minibatch on " + r.topic()));
            }
            if (configHash != null && b.preprocessConfigHash() != configHash) {
                return failed(r, stage + CONFIG_HASH, new IllegalArgumentException(String.format("preprocess config"
                        + " hash %016x of this %s minibatch is not the trainer's %016x: it was made with other"
                        + " transform settings or another vocabulary; rerun the preprocessing job with the trainer's"
                        + " config (or train with the job's)", b.preprocessConfigHash(), modality.id(), configHash)));
            }
            return new Fetched(modality, r.topic(), r.partition(), r.offset(), b, null, r);
        }

        private Fetched failed(ConsumerRecord<byte[], byte[]> r, String stage, RuntimeException e) {
            return new Fetched(modality, r.topic(), r.partition(), r.offset(), null,
                    DeadLetter.of(r, stage, e, System.currentTimeMillis()));
        }

        /** Blocks while the queue is full (bounded memory); false when stopped meanwhile. */
        private boolean offer(Fetched f) {
            try {
                while (running) {
                    if (queue.offer(f, 100, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        private void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }

        void stop() {
            running = false;
            KafkaConsumer<byte[], byte[]> c = consumer;
            if (c != null) {
                c.wakeup();
            }
        }
    }
}
