package dev.d2v.preprocess.job;

import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.Rejected;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The preprocessing job of one modality, as its dataflow reads:
 *
 * <pre>
 * KafkaSource d2v.raw.&lt;m&gt; (read_committed)
 *   -> transform (TransformFunction over SampleTransformer) --bad records--> KafkaSink d2v.deadletter (exactly once)
 *   -> batcher (BatcherFunction over BatchAssembler), keyed by the transform subtask's own batcher key
 *   -> KafkaSink d2v.batch.&lt;m&gt; (exactly once, transactional)
 * </pre>
 *
 * Source, transform, batcher and sink run chained in one thread per subtask: the samples are never serialised
 * between operators. The batcher is keyed (its pending samples and timers are Flink keyed state) without a shuffle:
 * each transform subtask tags its samples with the one key that Flink routes to the batcher subtask of the same
 * index ({@link BatchKey}), and {@code DataStreamUtils.reinterpretAsKeyedStream} declares the stream partitioned
 * as it already is. Records pass between the chained operators by reference ({@code pipeline.object-reuse}): no
 * operator keeps or changes a record it has emitted or been handed, apart from the batcher, which keeps the samples
 * the transform made for it alone.
 *
 * {@link #build} takes the source and sinks, so a test runs the same topology on its own ends; {@link #attach}
 * starts from a stream, so a test can put an operator (a failure injector) between source and transform.
 * Several modalities attached to one environment run as one Flink job ({@code ./d2v preprocess --modality all}).
 */
public final class PreprocessJob {

    private PreprocessJob() {
    }

    /** source -> transform -> batcher -> batchSink, rejects -> deadLetterSink. */
    public static void build(StreamExecutionEnvironment env, Source<RawRecord, ?, ?> source, Sink<byte[]> batchSink,
                             Sink<Rejected> deadLetterSink, PreprocessJobConfig c) {
        String m = c.modality().id();
        DataStream<RawRecord> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "raw " + m)
                .uid(m + "-raw-source");
        attach(raw, batchSink, deadLetterSink, c);
    }

    /** The topology from the raw stream on. */
    public static void attach(DataStream<RawRecord> raw, Sink<byte[]> batchSink, Sink<Rejected> deadLetterSink,
                              PreprocessJobConfig c) {
        String m = c.modality().id();
        SingleOutputStreamOperator<Tuple2<Integer, Sample>> samples = raw
                .process(new TransformFunction(c.transform()), KEYED_SAMPLE).uid(m + "-transform").name("transform " + m)
                .setParallelism(c.parallelism());
        samples.getSideOutput(TransformFunction.REJECTED)
                .sinkTo(deadLetterSink).uid(m + "-deadletter-sink").name("dead letters " + m);
        DataStreamUtils.reinterpretAsKeyedStream(samples, new BatchKey(), Types.INT)
                .process(new BatcherFunction(c.batchSpec(), MinibatchCodec.inline())).uid(m + "-batcher")
                .name("batcher " + m).setParallelism(c.parallelism())
                .sinkTo(batchSink).uid(m + "-batch-sink").name("batches " + m).setParallelism(c.parallelism());
    }

    /** build() with the Kafka source and sinks of the configuration. */
    public static void buildKafka(StreamExecutionEnvironment env, PreprocessJobConfig c) {
        build(env, kafkaSource(c), batchSink(c), deadLetterSink(c), c);
    }

    /**
     * Max parallelism of every job (the number of key groups): Flink's default for parallelism up to 128, fixed
     * here so the batcher keys below stay valid and savepoints stay compatible when the parallelism changes.
     */
    public static final int MAX_PARALLELISM = 128;

    /** A sample with its batcher key ({@link BatchKey}). */
    static final TypeInformation<Tuple2<Integer, Sample>> KEYED_SAMPLE =
            Types.TUPLE(Types.INT, TypeInformation.of(Sample.class));

    /**
     * The batcher's key, which the transform subtask put beside the sample: the smallest key that Flink routes to
     * the subtask's own index ({@link #keysForSubtasks}), so that every transform subtask feeds the batcher chained
     * to it, and a replay from the same Kafka partitions goes to the same batcher. When a job is restored at another
     * parallelism, the pending samples of an old key are restored to the subtask that now owns that key and leave as
     * a batch when their timeout fires.
     */
    record BatchKey() implements KeySelector<Tuple2<Integer, Sample>, Integer> {
        @Override
        public Integer getKey(Tuple2<Integer, Sample> keyed) {
            return keyed.f0;
        }

        /** keys[i] = the smallest non-negative int that Flink routes to subtask i of {@code parallelism}. */
        static int[] keysForSubtasks(int parallelism, int maxParallelism) {
            int[] keys = new int[parallelism];
            Arrays.fill(keys, -1);
            int found = 0;
            for (int k = 0; found < parallelism; k++) {
                int subtask = KeyGroupRangeAssignment.assignKeyToParallelOperator(k, maxParallelism, parallelism);
                if (keys[subtask] < 0) {
                    keys[subtask] = k;
                    found++;
                }
            }
            return keys;
        }
    }

    // ---- Kafka ends ----

    /**
     * d2v.raw.&lt;m&gt; from the group's committed offsets (earliest when it has none), read_committed;
     * bounded: up to the end offsets at start.
     */
    public static KafkaSource<RawRecord> kafkaSource(PreprocessJobConfig c) {
        KafkaSourceBuilder<RawRecord> b = kafkaSourceBuilder(c);
        if (c.bounded()) {
            b.setBounded(OffsetsInitializer.latest());
        }
        return b.build();
    }

    /** {@link #kafkaSource}'s builder before the bounded setting (a test sets its own end). */
    public static KafkaSourceBuilder<RawRecord> kafkaSourceBuilder(PreprocessJobConfig c) {
        return KafkaSource.<RawRecord>builder()
                .setProperties(withDefaults(FETCH_DEFAULTS, c.clientProps()))
                .setBootstrapServers(c.bootstrap())
                .setTopics(c.topics().raw(c.modality()))
                .setGroupId(c.groupId())
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new KafkaCodecs.RawRecords())
                .setProperty("isolation.level", "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true");
    }

    /**
     * The source's fetches: at least 64 KiB per fetch or 100 ms, whichever first, instead of Kafka's one byte, so that
     * small records (a text is about 200 bytes) arrive in a few large fetches rather than many small ones. The
     * latency it adds is below the checkpoint interval that decides when a batch becomes visible anyway.
     */
    static final Map<String, String> FETCH_DEFAULTS = Map.of("fetch.min.bytes", "65536", "fetch.max.wait.ms", "100");

    /**
     * The sinks' producer batches: a minibatch record is larger than Kafka's default 16 KiB batch, so every record
     * went out as a batch of its own; 512 KiB batches with 20 ms of linger put several in one request. Records stay
     * invisible to read_committed readers until the checkpoint commits them, so the linger costs no visible latency.
     */
    static final Map<String, String> PRODUCE_DEFAULTS = Map.of("batch.size", "524288", "linger.ms", "20");

    /** defaults, then the configuration's client properties over them (a user's setting wins). */
    static Properties withDefaults(Map<String, String> defaults, Properties configured) {
        Properties p = new Properties();
        p.putAll(defaults);
        p.putAll(configured);
        return p;
    }

    /** d2v.batch.&lt;m&gt;, exactly once, transactional id prefix {@code <prefix>-batch}. */
    public static KafkaSink<byte[]> batchSink(PreprocessJobConfig c) {
        return exactlyOnceSink(c, new KafkaCodecs.Batches(c.topics().batch(c.modality())), "batch");
    }

    /** d2v.deadletter, exactly once, transactional id prefix {@code <prefix>-deadletter}. */
    public static KafkaSink<Rejected> deadLetterSink(PreprocessJobConfig c) {
        return exactlyOnceSink(c, new KafkaCodecs.DeadLetters(c.topics().deadLetter()), "deadletter");
    }

    private static <T> KafkaSink<T> exactlyOnceSink(PreprocessJobConfig c, KafkaRecordSerializationSchema<T> schema,
                                                    String what) {
        Properties p = withDefaults(PRODUCE_DEFAULTS, c.clientProps());
        p.put("transaction.timeout.ms", Long.toString(c.transactionTimeoutMs()));
        p.put("max.request.size", Integer.toString(c.maxRequestBytes()));
        return KafkaSink.<T>builder()
                .setBootstrapServers(c.bootstrap())
                .setKafkaProducerConfig(p)
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(c.transactionalIdPrefix() + "-" + what)
                .build();
    }

    // ---- the environment ----

    /**
     * Exactly-once checkpoints every interval, no Kryo ({@code pipeline.generic-types: false}: every type has a
     * Flink serializer), records passed by reference between chained operators ({@code pipeline.object-reuse}: the
     * class comment says why that is safe here), and what lets the job ride out a broker outage of minutes: exponential-delay restarts (1 s,
     * doubling to a minute, with jitter; {@code restartAttempts} of them before the job fails for good, counted
     * again after 10 minutes without a failure), up to {@value #TOLERABLE_CHECKPOINT_FAILURES} failed checkpoints in a
     * row before a failover, and checkpoints that give up after {@value #CHECKPOINT_TIMEOUT_MINUTES} minutes instead
     * of Flink's 10. A restart restores the last checkpoint: the source rereads from its offsets and the sink's
     * open transactions are aborted, so nothing is lost or duplicated for read_committed readers.
     */
    public static Configuration flinkConfiguration(PreprocessJobConfig c) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(c.checkpointIntervalMs()));
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, TOLERABLE_CHECKPOINT_FAILURES);
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(CHECKPOINT_TIMEOUT_MINUTES));
        if (c.restartAttempts() == 0) {   // a test's job that must fail at the first error
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            return conf;
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS, c.restartAttempts());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, Duration.ofMinutes(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD, Duration.ofMinutes(10));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, 0.1);
        return conf;
    }

    /** Checkpoints that may fail in a row (a broker outage fails every one) before the job fails over. */
    static final int TOLERABLE_CHECKPOINT_FAILURES = 20;
    static final int CHECKPOINT_TIMEOUT_MINUTES = 2;

    /**
     * The environment for these jobs on a local MiniCluster in this process (tests, benchmarks), listening on the
     * loopback interface only ({@link #loopbackOnly}). All jobs must agree on the settings; the first one's are used.
     */
    public static StreamExecutionEnvironment environment(List<PreprocessJobConfig> jobs) {
        return environment(jobs, loopbackOnly(flinkConfiguration(jobs.get(0))));
    }

    /**
     * The environment of the job jar's main class ({@link PreprocessJobMain}): the cluster's when submitted with
     * {@code flink run}, whose processes listen where the cluster's own configuration says.
     */
    public static StreamExecutionEnvironment clusterEnvironment(List<PreprocessJobConfig> jobs) {
        return environment(jobs, flinkConfiguration(jobs.get(0)));
    }

    /**
     * A local MiniCluster's REST endpoint (which can cancel jobs and takes no authentication), blob server, RPC and
     * data ports bound to 127.0.0.1: by default Flink binds them to every interface, which on a laptop or a
     * shared host hands the job to anyone on the network.
     */
    public static Configuration loopbackOnly(Configuration conf) {
        conf.set(RestOptions.BIND_ADDRESS, LOOPBACK);
        conf.set(RestOptions.ADDRESS, LOOPBACK);
        conf.set(JobManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(JobManagerOptions.ADDRESS, LOOPBACK);
        conf.set(TaskManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(TaskManagerOptions.HOST, LOOPBACK);
        return conf;
    }

    private static final String LOOPBACK = "127.0.0.1";

    /**
     * The local run's environment with retained checkpoints in {@code state} and, when {@code restore} is given, the
     * state of that retained checkpoint (see {@link #retainedCheckpoints}).
     */
    public static StreamExecutionEnvironment environment(List<PreprocessJobConfig> jobs, RetainedState state,
                                                         Path restore) {
        return environment(jobs, loopbackOnly(retainedCheckpoints(flinkConfiguration(jobs.get(0)), state.checkpoints(),
                restore)));
    }

    /**
     * Checkpoints to {@code checkpointDir} (file://), kept when the job is cancelled
     * ({@code execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION}; Flink still
     * discards them when the job finishes), and the start from {@code restore}'s state
     * ({@code execution.state-recovery.path}) when given. The restore does not claim the checkpoint (the default
     * NO_CLAIM): the new job's first checkpoint is a full one of its own, and the old one is left for
     * {@link RetainedState} to remove. Operator uids are fixed (the topology's {@code .uid(...)}), and so are the
     * sinks' transactional id prefixes, so the restored sink commits or aborts the old run's transactions.
     */
    public static Configuration retainedCheckpoints(Configuration conf, Path checkpointDir, Path restore) {
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toAbsolutePath().toUri().toString());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (restore != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restore.toAbsolutePath().toUri().toString());
        }
        return conf;
    }

    private static StreamExecutionEnvironment environment(List<PreprocessJobConfig> jobs, Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        int slots = jobs.stream().mapToInt(PreprocessJobConfig::parallelism).max().orElse(1);
        env.setParallelism(slots);
        env.setMaxParallelism(MAX_PARALLELISM);
        return env;
    }
}
