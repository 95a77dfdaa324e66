package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.sample.TransformSpec;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * One modality's preprocessing job: what to read and write, how to batch, and the exactly-once settings.
 * {@link #from} takes the Kafka, topic and batch-size settings from the project configuration.
 *
 * @param transform             the modality, its transform config and epoch (and the text vocabulary)
 * @param bootstrap             Kafka bootstrap servers
 * @param clientProperties      passed to every Kafka client (TLS, SASL, ...)
 * @param topicPrefix           d2v.raw.&lt;m&gt; in, d2v.batch.&lt;m&gt; and d2v.deadletter out, from this prefix
 * @param batchSize             samples per full batch (PipelineConfig.Batch: image 256, audio 64, text 64)
 * @param partialTimeoutMs      a short batch is sent, marked partial, this long after its first sample
 * @param parallelism           transform and batcher parallelism; also the number of batcher keys
 * @param checkpointIntervalMs  batches become visible to read_committed readers only when the checkpoint that
 *                              commits their transaction completes: this bounds that added latency (10 s)
 * @param transactionTimeoutMs  the sink's transaction.timeout.ms: must stay below the broker's
 *                              transaction.max.timeout.ms (Kafka's default 15 min, the local broker 1 h) or the
 *                              producer is refused and the job restarts forever; 10 min is far above a checkpoint
 * @param transactionalIdPrefix per job and modality, so two jobs never fence each other's transactions
 * @param groupId               consumer group the source commits its offsets to on checkpoints (monitoring, and
 *                              the start position of a fresh job)
 * @param bounded               true: read up to the raw topic's end offsets at start, flush, finish
 *                              (tests, the demo); false: run until stopped
 * @param restartAttempts       exponential-delay restarts before the job fails for good (counted again after 10 min
 *                              without a failure): enough to ride out a broker outage, not a loop forever
 * @param maxRequestBytes       producer max.request.size: the configured largest record (topics.maxMessageBytes)
 */
public record PreprocessJobConfig(
        TransformSpec transform,
        String bootstrap,
        Map<String, String> clientProperties,
        String topicPrefix,
        int batchSize,
        long partialTimeoutMs,
        int parallelism,
        long checkpointIntervalMs,
        long transactionTimeoutMs,
        String transactionalIdPrefix,
        String groupId,
        boolean bounded,
        int restartAttempts,
        int maxRequestBytes) implements Serializable {

    public static final long DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;
    public static final long DEFAULT_TRANSACTION_TIMEOUT_MS = Duration.ofMinutes(10).toMillis();
    /** About 25 minutes of exponential-delay restarts (1 s doubling to a minute): a broker outage of minutes is survived. */
    public static final int DEFAULT_RESTART_ATTEMPTS = 30;

    public PreprocessJobConfig {
        Objects.requireNonNull(transform, "transform");
        Objects.requireNonNull(bootstrap, "bootstrap");
        clientProperties = clientProperties == null ? Map.of() : Map.copyOf(clientProperties);
        new Topics(topicPrefix); // validates the prefix
        if (batchSize < 1 || partialTimeoutMs < 1 || parallelism < 1 || checkpointIntervalMs < 10
                || transactionTimeoutMs < 1000 || restartAttempts < 0 || maxRequestBytes < 1024) {
            throw new IllegalArgumentException("preprocess job needs batchSize >= 1, partialTimeoutMs >= 1, parallelism >= 1,"
                    + " checkpointIntervalMs >= 10, transactionTimeoutMs >= 1000, restartAttempts >= 0, maxRequestBytes >= 1024");
        }
        if (transactionTimeoutMs <= checkpointIntervalMs) {
            throw new IllegalArgumentException("transactionTimeoutMs (" + transactionTimeoutMs + ") must exceed the checkpoint"
                    + " interval (" + checkpointIntervalMs + "): a transaction stays open for a whole interval");
        }
        if (transactionalIdPrefix == null || transactionalIdPrefix.isBlank() || groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException("transactionalIdPrefix and groupId must be given");
        }
    }

    /** The job for {@code transform}'s modality with the project configuration's Kafka, topics and batch size. */
    public static PreprocessJobConfig from(PipelineConfig c, TransformSpec transform) {
        String m = transform.modality().id();
        return new PreprocessJobConfig(transform, c.kafka().bootstrap(), c.kafka().clientProperties(), c.topics().prefix(),
                c.batch().of(transform.modality()), BatchSpec.DEFAULT_TIMEOUT_MS, 1, DEFAULT_CHECKPOINT_INTERVAL_MS,
                DEFAULT_TRANSACTION_TIMEOUT_MS, c.topics().prefix() + "-preprocess-" + m,
                groupId(c.topics().prefix(), transform.modality()), false, DEFAULT_RESTART_ATTEMPTS,
                c.topics().maxMessageBytes());
    }

    /**
     * The consumer group of {@link #from}'s job for modality m: {@code <prefix>-preprocess-<m>}. Its committed offsets
     * on d2v.raw.&lt;m&gt; are how far the job got (committed on each completed checkpoint); the demo compares them
     * with the raw topic's end offsets to decide whether a bounded run is needed.
     */
    public static String groupId(String topicPrefix, Modality m) {
        return topicPrefix + "-preprocess-" + m.id();
    }

    public Modality modality() {
        return transform.modality();
    }

    public Topics topics() {
        return new Topics(topicPrefix);
    }

    public BatchSpec batchSpec() {
        return transform.batchSpec(batchSize, partialTimeoutMs);
    }

    /** Every setting, with the values of secret-looking client properties hidden (this record is logged). */
    @Override
    public String toString() {
        return "PreprocessJobConfig[transform=" + transform + ", bootstrap=" + bootstrap + ", clientProperties="
                + PipelineConfig.Kafka.redacted(clientProperties) + ", topicPrefix=" + topicPrefix + ", batchSize="
                + batchSize + ", partialTimeoutMs=" + partialTimeoutMs + ", parallelism=" + parallelism
                + ", checkpointIntervalMs=" + checkpointIntervalMs + ", transactionTimeoutMs=" + transactionTimeoutMs
                + ", transactionalIdPrefix=" + transactionalIdPrefix + ", groupId=" + groupId + ", bounded=" + bounded
                + ", restartAttempts=" + restartAttempts + ", maxRequestBytes=" + maxRequestBytes + "]";
    }

    /** Client properties: the pass-through settings plus bootstrap.servers. */
    public Properties clientProps() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    public PreprocessJobConfig withBatch(int size, long timeoutMs) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, size, timeoutMs, parallelism,
                checkpointIntervalMs, transactionTimeoutMs, transactionalIdPrefix, groupId, bounded, restartAttempts,
                maxRequestBytes);
    }

    public PreprocessJobConfig withParallelism(int n) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, batchSize, partialTimeoutMs, n,
                checkpointIntervalMs, transactionTimeoutMs, transactionalIdPrefix, groupId, bounded, restartAttempts,
                maxRequestBytes);
    }

    public PreprocessJobConfig withCheckpointIntervalMs(long ms) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, batchSize, partialTimeoutMs,
                parallelism, ms, transactionTimeoutMs, transactionalIdPrefix, groupId, bounded, restartAttempts,
                maxRequestBytes);
    }

    public PreprocessJobConfig withBounded(boolean b) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, batchSize, partialTimeoutMs,
                parallelism, checkpointIntervalMs, transactionTimeoutMs, transactionalIdPrefix, groupId, b, restartAttempts,
                maxRequestBytes);
    }

    public PreprocessJobConfig withRestartAttempts(int n) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, batchSize, partialTimeoutMs,
                parallelism, checkpointIntervalMs, transactionTimeoutMs, transactionalIdPrefix, groupId, bounded, n,
                maxRequestBytes);
    }

    public PreprocessJobConfig withTopicPrefix(String prefix) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, prefix, batchSize, partialTimeoutMs,
                parallelism, checkpointIntervalMs, transactionTimeoutMs, transactionalIdPrefix, groupId, bounded,
                restartAttempts, maxRequestBytes);
    }

    /** Transactional id prefix and consumer group (e.g. a unique pair per test or per deployment). */
    public PreprocessJobConfig withIds(String txPrefix, String group) {
        return new PreprocessJobConfig(transform, bootstrap, clientProperties, topicPrefix, batchSize, partialTimeoutMs,
                parallelism, checkpointIntervalMs, transactionTimeoutMs, txPrefix, group, bounded, restartAttempts,
                maxRequestBytes);
    }
}
