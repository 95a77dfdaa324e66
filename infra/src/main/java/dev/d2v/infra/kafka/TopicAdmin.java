package dev.d2v.infra.kafka;

import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Creates the pipeline's topics from {@link PipelineConfig.TopicSettings} and lists them with record counts.
 * Works against any cluster: the client properties (TLS, SASL, ...) pass through from the configuration.
 *
 * <p>Layout decisions (see {@link #specs}): raw and batch topics get {@code settings.partitions()} partitions
 * and {@code settings.retentionMs()}; checkpoints, eval and promotions get one partition (their events are a single
 * ordered history: the evaluator follows checkpoints in order, the latest checkpoint is the last record) and
 * are kept forever (a few small JSON events per checkpoint; a restart and the report read the whole history);
 * the dead-letter topic gets one partition (low volume, read by people in order) and the raw retention.
 * Every topic gets {@code settings.maxMessageBytes()} and {@code settings.replicationFactor()}.
 */
public final class TopicAdmin implements AutoCloseable {

    /** Admin calls are quick; 30 s covers a broker that is still electing leaders after startup. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** One topic to create. retentionMs -1 = keep forever. */
    public record TopicSpec(String name, int partitions, short replicationFactor, long retentionMs, int maxMessageBytes) {
        NewTopic toNewTopic() {
            return new NewTopic(name, partitions, replicationFactor).configs(Map.of(
                    TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs),
                    TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes)));
        }
    }

    /**
     * One existing topic. recordCount = sum over partitions of (latest - earliest offset): transaction
     * markers (one per partition per committed or aborted transaction) and aborted records occupy offsets
     * too, so for transactional topics this is an upper bound; {@link #committedCount} counts exactly.
     */
    public record TopicInfo(String name, int partitions, long recordCount, long retentionMs, int maxMessageBytes) {
    }

    /** What {@link #ensureTopics} did: topics it created, and topics that already existed and were left alone. */
    public record EnsureResult(List<String> created, List<String> existing) {
        public EnsureResult {
            created = List.copyOf(created);
            existing = List.copyOf(existing);
        }
    }

    private final Admin admin;
    private final Properties clientProps;

    /** Connects with {@code kafka.clientProps()}: bootstrap servers plus the pass-through TLS/SASL settings. */
    public TopicAdmin(PipelineConfig.Kafka kafka) {
        this(kafka.clientProps());
    }

    public TopicAdmin(Properties clientProps) {
        this.clientProps = new Properties();
        this.clientProps.putAll(clientProps);
        this.admin = Admin.create(clientProps);
    }

    /** The topics the pipeline needs, in {@link Topics#all()} order; see the class comment for the layout. */
    public static List<TopicSpec> specs(PipelineConfig.TopicSettings settings) {
        Topics names = settings.names();
        List<TopicSpec> specs = new ArrayList<>();
        for (String name : names.all()) {
            boolean history = name.equals(names.checkpoints()) || name.equals(names.eval())
                    || name.equals(names.promotions());
            boolean single = history || name.equals(names.deadLetter());
            specs.add(new TopicSpec(name, single ? 1 : settings.partitions(), settings.replicationFactor(),
                    history ? -1L : settings.retentionMs(), settings.maxMessageBytes()));
        }
        return specs;
    }

    /** Creates the missing topics of {@link #specs}; existing topics keep their settings and are reported. */
    public EnsureResult ensureTopics(PipelineConfig.TopicSettings settings) {
        Set<String> present = get(admin.listTopics().names());
        List<String> existing = new ArrayList<>();
        List<NewTopic> toCreate = new ArrayList<>();
        for (TopicSpec spec : specs(settings)) {
            if (present.contains(spec.name())) {
                existing.add(spec.name());
            } else {
                toCreate.add(spec.toNewTopic());
            }
        }
        List<String> created = new ArrayList<>();
        CreateTopicsResult result = admin.createTopics(toCreate);
        for (NewTopic t : toCreate) {
            try {
                get(result.values().get(t.name()));
                created.add(t.name());
            } catch (KafkaAdminException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                existing.add(t.name()); // created by someone else in the meantime
            }
        }
        return new EnsureResult(created, existing);
    }

    /** The pipeline's topics that do not exist yet. */
    public List<String> missing(Topics topics) {
        Set<String> present = get(admin.listTopics().names());
        return topics.all().stream().filter(n -> !present.contains(n)).toList();
    }

    /** The pipeline's existing topics (missing ones are left out: see {@link #missing}), in {@link Topics#all()} order. */
    public List<TopicInfo> list(Topics topics) {
        Set<String> present = get(admin.listTopics().names());
        return list(topics.all().stream().filter(present::contains).toList());
    }

    /** Partitions, record counts and configs of the given existing topics, in the given order. */
    public List<TopicInfo> list(Collection<String> names) {
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, TopicDescription> descriptions = get(admin.describeTopics(names).allTopicNames());
        List<TopicPartition> partitions = descriptions.values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition())))
                .toList();
        Map<TopicPartition, Long> earliest = offsets(partitions, OffsetSpec.earliest());
        Map<TopicPartition, Long> latest = offsets(partitions, OffsetSpec.latest());
        Map<String, Config> configs = topicConfigs(names);
        List<TopicInfo> infos = new ArrayList<>();
        for (String name : names) {
            long count = partitions.stream().filter(tp -> tp.topic().equals(name))
                    .mapToLong(tp -> latest.get(tp) - earliest.get(tp)).sum();
            Config c = configs.get(name);
            infos.add(new TopicInfo(name, descriptions.get(name).partitions().size(), count,
                    Long.parseLong(c.get(TopicConfig.RETENTION_MS_CONFIG).value()),
                    Integer.parseInt(c.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value())));
        }
        return infos;
    }

    /**
     * The exact number of committed records in a topic ({@link #forEachCommitted}: transaction markers and aborted
     * records are not counted). Reads every byte of the topic, so it is for tests and small topics; {@link #list} is
     * the cheap estimate.
     */
    public long committedCount(String topic, Duration timeout) {
        AtomicLong count = new AtomicLong();
        forEachCommitted(topic, timeout, r -> count.incrementAndGet());
        return count.get();
    }

    /**
     * Every committed record of a topic: reads it from the beginning with read_committed up to the last stable offset
     * at the start (records written later are left out). Fails when that takes longer than {@code timeout}.
     */
    public void forEachCommitted(String topic, Duration timeout, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = consumer.partitionsFor(topic, timeout).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, timeout); // the LSO under read_committed
            long deadline = System.nanoTime() + timeout.toNanos();
            while (tps.stream().anyMatch(tp -> consumer.position(tp, timeout) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaAdminException("reading " + topic + " did not finish within " + timeout, null);
                }
                consumer.poll(Duration.ofMillis(500)).forEach(each);
            }
        }
    }

    /** A fixed-width table for the command line: one row per topic. */
    public static String formatTable(List<TopicInfo> topics) {
        int w = Math.max(5, topics.stream().mapToInt(t -> t.name().length()).max().orElse(0));
        String row = "%-" + w + "s  %10s  %12s  %10s  %12s%n";
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, row,
                "topic", "partitions", "records", "retention", "max message"));
        for (TopicInfo t : topics) {
            sb.append(String.format(Locale.ROOT, row, t.name(), t.partitions(), t.recordCount(),
                    retention(t.retentionMs()), bytes(t.maxMessageBytes())));
        }
        return sb.toString();
    }

    /** 604800000 -> "7d", 3600000 -> "1h", -1 -> "forever", otherwise milliseconds. */
    static String retention(long ms) {
        if (ms < 0) {
            return "forever";
        }
        Duration d = Duration.ofMillis(ms);
        if (ms > 0 && d.toDays() * 86_400_000L == ms) {
            return d.toDays() + "d";
        }
        if (ms > 0 && d.toHours() * 3_600_000L == ms) {
            return d.toHours() + "h";
        }
        return ms + "ms";
    }

    /** 16777216 -> "16.0 MiB", 1024 -> "1.0 KiB", 100 -> "100 B". */
    static String bytes(long n) {
        if (n >= 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        if (n >= 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return n + " B";
    }

    /** The underlying admin client, for callers that need more than this class offers. */
    public Admin admin() {
        return admin;
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }

    /** An admin call failed or timed out; the message names the bootstrap servers. */
    public static final class KafkaAdminException extends RuntimeException {
        public KafkaAdminException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, ListOffsetsResultInfo> result = get(admin.listOffsets(request).all());
        return result.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    private Map<String, Config> topicConfigs(Collection<String> names) {
        List<ConfigResource> resources = names.stream()
                .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
        Map<ConfigResource, Config> configs = get(admin.describeConfigs(resources).all());
        Map<String, Config> byName = new LinkedHashMap<>();
        configs.forEach((r, c) -> byName.put(r.name(), c));
        return byName;
    }

    /** Waits for an admin future; failures become a {@link KafkaAdminException} naming the cluster. */
    private <T> T get(KafkaFuture<T> future) {
        String where = " (bootstrap.servers=" + clientProps.get("bootstrap.servers") + ")";
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new KafkaAdminException("Kafka admin call failed" + where + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaAdminException("Kafka did not answer within " + TIMEOUT.toSeconds() + " s" + where
                    + "; is the broker running? (`./d2v kafka start`)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaAdminException("interrupted while waiting for Kafka" + where, e);
        }
    }
}
