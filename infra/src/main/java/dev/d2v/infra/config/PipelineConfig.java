package dev.d2v.infra.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The whole configuration of the pipeline: one YAML file (config/d2v.yaml shows every key with its default, commented
 * out) plus command-line overrides applied with the {@code with*} methods. The defaults live here, once, each with its
 * reason beside it; every section is its own record with its checks in the compact constructor, so an invalid file
 * fails at load time with the key that is wrong. A key left out of the file is null here and takes its default; a
 * value written in the file is checked as written (an explicit 0 never means "use the default").
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record PipelineConfig(Kafka kafka, TopicSettings topics, Data data, Batch batch, Model model,
                             TransformSettings transforms) {

    public PipelineConfig {
        kafka = kafka == null ? Kafka.defaults() : kafka;
        topics = topics == null ? TopicSettings.defaults() : topics;
        data = data == null ? Data.defaults() : data;
        batch = batch == null ? Batch.defaults() : batch;
        model = model == null ? Model.defaults() : model;
        transforms = transforms == null ? TransformSettings.defaults() : transforms;
    }

    /** The four pipeline sections, the model and transforms sections at their defaults. */
    public PipelineConfig(Kafka kafka, TopicSettings topics, Data data, Batch batch) {
        this(kafka, topics, data, batch, null, null);
    }

    public static PipelineConfig defaults() {
        return new PipelineConfig(null, null, null, null, null, null);
    }

    /** Kafka connection. clientProperties pass straight through to every client (TLS, SASL, ...). */
    public record Kafka(
            // where the pipeline's clients connect: the local broker's default port
            String bootstrap,
            // local broker (./d2v kafka start): storage folder, formatted on first start
            String dataDir,
            // local broker's port: 9092, Kafka's own default, matching bootstrap; 0 = any free port
            Integer port,
            // e.g. security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location
            Map<String, String> clientProperties) {
        public Kafka {
            bootstrap = bootstrap == null ? "127.0.0.1:9092" : bootstrap;
            dataDir = dataDir == null ? ".d2v/kafka" : dataDir;
            port = port == null ? 9092 : port;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("kafka.port must be 0..65535 (0 = any free port), got " + port);
            }
            clientProperties = clientProperties == null ? Map.of() : Map.copyOf(clientProperties);
        }

        public static Kafka defaults() {
            return new Kafka(null, null, null, null);
        }

        /** Client properties: bootstrap servers plus the pass-through settings. */
        public Properties clientProps() {
            Properties p = new Properties();
            p.putAll(clientProperties);
            p.put("bootstrap.servers", bootstrap);
            return p;
        }

        /**
         * This connection without its security settings (security.protocol, sasl.*, ssl.*): for the project's own
         * local broker, which listens in PLAINTEXT; the credentials of an external cluster are not sent to it.
         */
        public Kafka withoutSecurity() {
            Map<String, String> plain = new TreeMap<>();
            clientProperties.forEach((k, v) -> {
                if (!isSecurity(k)) {
                    plain.put(k, v);
                }
            });
            return new Kafka(bootstrap, dataDir, port, plain);
        }

        static boolean isSecurity(String key) {
            return key.equals("security.protocol") || key.startsWith("sasl.") || key.startsWith("ssl.");
        }

        /** Never prints a credential: the values of secret-looking keys read [hidden]. */
        @Override
        public String toString() {
            return "Kafka[bootstrap=" + bootstrap + ", dataDir=" + dataDir + ", port=" + port + ", clientProperties="
                    + redacted(clientProperties) + "]";
        }

        /**
         * The properties with the values of secret-looking keys (sasl.jaas.config, *password*, *secret*, *token*,
         * ssl.key*) replaced by [hidden], for messages and logs.
         */
        public static Map<String, String> redacted(Map<String, String> properties) {
            Map<String, String> out = new TreeMap<>();
            properties.forEach((k, v) -> out.put(k, isSecret(k) ? "[hidden]" : v));
            return out;
        }

        static boolean isSecret(String key) {
            String k = key.toLowerCase(Locale.ROOT);
            return k.contains("jaas") || k.contains("password") || k.contains("secret") || k.contains("token")
                    || k.startsWith("ssl.key") || k.contains("credentials");
        }
    }

    /** Topic layout: names from a prefix; partitions, retention and size limits for creation. */
    public record TopicSettings(
            // every topic name derives from it: d2v.raw.image, d2v.batch.audio, d2v.checkpoints, ...
            String prefix,
            // raw and batch topics: partitions bound Flink source parallelism and trainer consumer threads; 2 lets
            // the local demo run two of each on 2 cores
            Integer partitions,
            // raw data is replayable for a week; -1 keeps it forever
            Long retentionMs,
            // the largest record (a full audio batch of fp16 spectrograms is ~10 MB); the broker is raised to match
            Integer maxMessageBytes,
            // 1 for the local single-node broker; 3 on a real cluster
            Short replicationFactor) {
        public TopicSettings {
            prefix = prefix == null ? "d2v" : prefix;
            partitions = partitions == null ? 2 : partitions;
            retentionMs = retentionMs == null ? 7L * 24 * 3600 * 1000 : retentionMs;
            maxMessageBytes = maxMessageBytes == null ? 16 * 1024 * 1024 : maxMessageBytes;
            replicationFactor = replicationFactor == null ? 1 : replicationFactor;
            if (partitions < 1) {
                throw new IllegalArgumentException("topics.partitions must be >= 1, got " + partitions);
            }
            if (retentionMs < 1 && retentionMs != -1) {
                throw new IllegalArgumentException("topics.retentionMs must be > 0, or -1 to keep records forever, got "
                        + retentionMs);
            }
            if (maxMessageBytes < 1024) {
                throw new IllegalArgumentException("topics.maxMessageBytes must be >= 1024, got " + maxMessageBytes);
            }
            if (replicationFactor < 1) {
                throw new IllegalArgumentException("topics.replicationFactor must be >= 1, got " + replicationFactor);
            }
            new Topics(prefix); // validates the prefix
        }

        public static TopicSettings defaults() {
            return new TopicSettings(null, null, null, null, null);
        }

        public Topics names() {
            return new Topics(prefix);
        }
    }

    /** Dataset cache. Generation is deterministic for a given seed. */
    public record Data(
            // where `./d2v data fetch` writes datasets and their labeled-folder exports
            String cacheDir,
            // seed of every generated dataset (spoken digits, splits): same seed, same bytes; 0 is a seed like any
            Long seed) {
        public Data {
            cacheDir = cacheDir == null ? ".d2v/data" : cacheDir;
            seed = seed == null ? 20221212L : seed;
        }

        public static Data defaults() {
            return new Data(null, null);
        }

        public Path cachePath() {
            return Path.of(cacheDir);
        }
    }

    /** Per-modality batch sizes: images are redundant, tokens are not, so images take larger batches. */
    public record Batch(Integer image, Integer audio, Integer text) {
        public Batch {
            image = image == null ? 256 : image;
            audio = audio == null ? 64 : audio;
            text = text == null ? 64 : text;
            if (image < 1 || audio < 1 || text < 1) {
                throw new IllegalArgumentException("batch sizes must be >= 1, got image " + image + ", audio " + audio
                        + ", text " + text);
            }
        }

        public static Batch defaults() {
            return new Batch(null, null, null);
        }

        public int of(Modality m) {
            return switch (m) {
                case IMAGE -> image;
                case AUDIO -> audio;
                case TEXT -> text;
            };
        }
    }

    /**
     * The model `pretrain` and `train` build: a preset of the model configuration that checkpoints store (tiny, small,
     * base, large, cpu) and overrides of its fields by dotted key, the same as the command line's {@code --set}.
     * In the file, {@code set} is a list of "key=value" strings or a map (nested maps give dotted keys):
     * <pre>
     * model:
     *   preset: cpu
     *   set: {model.dim: 192, optim.lr: 5e-4}
     * </pre>
     * The command line's --preset replaces the preset; its --set overrides are applied after these.
     */
    public record Model(
            // cpu: the preset sized for a few CPU cores, which is where ./d2v runs unless --device gpu is given
            String preset,
            // applied in order; a later one for the same key wins
            @JsonDeserialize(using = OverridesReader.class) List<String> set) {
        public static final String DEFAULT_PRESET = "cpu";

        public Model {
            preset = preset == null ? DEFAULT_PRESET : preset;
            set = assignments("model.set", set);
        }

        public static Model defaults() {
            return new Model(null, null);
        }
    }

    /**
     * The preprocessing transforms every stage builds (the Flink jobs, offline pretraining, the trainer's expected
     * config hashes): their defaults, then overrides by dotted key of the transform settings' fields, applied in order:
     * <pre>
     * transforms:
     *   set: {image.flipProbability: 0, image.cropScaleMin: 0.6}
     * </pre>
     * The command line's {@code --set transforms.image.flipProbability=0} is applied after these. The keys are those of
     * a checkpoint's {@code config.run.transforms}; the transforms module checks them.
     */
    public record TransformSettings(@JsonDeserialize(using = OverridesReader.class) List<String> set) {
        public TransformSettings {
            set = assignments("transforms.set", set);
        }

        public static TransformSettings defaults() {
            return new TransformSettings(null);
        }
    }

    /** A {@code set} list as written (null: empty), each entry checked to be KEY=VALUE. */
    private static List<String> assignments(String section, List<String> set) {
        List<String> out = set == null ? List.of() : List.copyOf(set);
        for (String kv : out) {
            if (kv.indexOf('=') < 1) {
                throw new IllegalArgumentException(section + ": '" + kv + "' is not KEY=VALUE");
            }
        }
        return out;
    }

    public PipelineConfig withBootstrap(String bootstrap) {
        return bootstrap == null ? this
                : new PipelineConfig(new Kafka(bootstrap, kafka.dataDir(), kafka.port(), kafka.clientProperties()), topics, data,
                batch, model, transforms);
    }

    /**
     * The configuration for the project's local PLAINTEXT broker at bootstrap: without the security settings meant
     * for an external cluster ({@link Kafka#withoutSecurity}).
     */
    public PipelineConfig forLocalBroker(String bootstrap) {
        return forLocalBroker(bootstrap, Map.of());
    }

    /**
     * The configuration for the project's local broker at bootstrap: the security settings meant for an external
     * cluster replaced by the local broker's own (none for PLAINTEXT; TLS and SCRAM for SASL_SSL).
     */
    public PipelineConfig forLocalBroker(String bootstrap, Map<String, String> brokerSecurity) {
        Map<String, String> props = new TreeMap<>(kafka.withoutSecurity().clientProperties());
        props.putAll(brokerSecurity);
        return new PipelineConfig(new Kafka(bootstrap, kafka.dataDir(), kafka.port(), props), topics, data, batch,
                model, transforms);
    }

    public PipelineConfig withCacheDir(String cacheDir) {
        return cacheDir == null ? this
                : new PipelineConfig(kafka, topics, new Data(cacheDir, data.seed()), batch, model, transforms);
    }

    public PipelineConfig withBatch(Batch batch) {
        return new PipelineConfig(kafka, topics, data, batch, model, transforms);
    }

    public PipelineConfig withModel(Model model) {
        return new PipelineConfig(kafka, topics, data, batch, model, transforms);
    }

    /** This configuration with overrides of the transforms appended to its transforms.set (a later key wins). */
    public PipelineConfig withTransformOverrides(List<String> more) {
        if (more.isEmpty()) {
            return this;
        }
        List<String> all = new ArrayList<>(transforms.set());
        all.addAll(more);
        return new PipelineConfig(kafka, topics, data, batch, model, new TransformSettings(all));
    }

    public Topics topicNames() {
        return topics.names();
    }

    // ---- loading ------------------------------------------------------------------------------------

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Loads a YAML file; keys not given keep their defaults. Unknown keys are an error naming the key. */
    public static PipelineConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("configuration file not found: " + file.toAbsolutePath()
                    + " (pass --config <file>; the documented default is config/d2v.yaml)");
        }
        try (InputStream in = Files.newInputStream(file)) {
            // streamed, not through a tree: model.set keeps each value's text as written
            JsonParser parser = YAML.createParser(in);
            return parser.nextToken() == null ? defaults()   // a file of comments only: the defaults
                    : YAML.readValue(parser, PipelineConfig.class);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("invalid configuration " + file + ": " + e.getMessage(), e);
        }
    }

    public String toYaml() {
        try {
            return YAML.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A configuration problem the user can fix; the message says what and where. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }

        public ConfigException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
