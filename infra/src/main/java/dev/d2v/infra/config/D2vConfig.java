package dev.d2v.infra.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The whole configuration: one YAML file (config/d2v.yaml is the documented default) plus command-line
 * overrides applied with the {@code with*} methods. Every section is its own record with its checks in the
 * compact constructor, so an invalid file fails at load time with the key that is wrong.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record D2vConfig(Kafka kafka, TopicSettings topics, Data data, Batch batch) {

    public D2vConfig {
        kafka = kafka == null ? Kafka.defaults() : kafka;
        topics = topics == null ? TopicSettings.defaults() : topics;
        data = data == null ? Data.defaults() : data;
        batch = batch == null ? Batch.defaults() : batch;
    }

    public static D2vConfig defaults() {
        return new D2vConfig(null, null, null, null);
    }

    /** Kafka connection. clientProperties pass straight through to every client (TLS, SASL, ...). */
    public record Kafka(
            // where the pipeline's clients connect; the local launcher's default port matches it
            String bootstrap,
            // local broker: storage folder (formatted on first start) and port (0 = any free port)
            String dataDir,
            int port,
            // e.g. security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location
            Map<String, String> clientProperties) {
        public Kafka {
            bootstrap = bootstrap == null ? "127.0.0.1:9092" : bootstrap;
            dataDir = dataDir == null ? ".d2v/kafka" : dataDir;
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("kafka.port must be 0..65535, got " + port);
            }
            clientProperties = clientProperties == null ? Map.of() : Map.copyOf(clientProperties);
        }

        public static Kafka defaults() {
            return new Kafka(null, null, 9092, null);
        }

        /** Client properties: bootstrap servers plus the pass-through settings. */
        public Properties clientProps() {
            Properties p = new Properties();
            p.putAll(clientProperties);
            p.put("bootstrap.servers", bootstrap);
            return p;
        }
    }

    /** Topic layout: names from a prefix; partitions, retention and size limits for creation. */
    public record TopicSettings(
            String prefix,
            // raw and batch topics: partitions bound Flink source parallelism and trainer consumer threads
            int partitions,
            // raw data is replayable for a week by default; -1 keeps it forever
            long retentionMs,
            // the largest record (a full audio batch of fp16 spectrograms is ~10 MB); the broker is raised to match
            int maxMessageBytes,
            // 1 for the local single-node broker; 3 on a real cluster
            short replicationFactor) {
        public TopicSettings {
            prefix = prefix == null ? "d2v" : prefix;
            partitions = partitions == 0 ? 2 : partitions;
            retentionMs = retentionMs == 0 ? 7L * 24 * 3600 * 1000 : retentionMs;
            maxMessageBytes = maxMessageBytes == 0 ? 16 * 1024 * 1024 : maxMessageBytes;
            replicationFactor = replicationFactor == 0 ? 1 : replicationFactor;
            if (partitions < 1) {
                throw new IllegalArgumentException("topics.partitions must be >= 1, got " + partitions);
            }
            if (maxMessageBytes < 1024) {
                throw new IllegalArgumentException("topics.maxMessageBytes must be >= 1024, got " + maxMessageBytes);
            }
            new Topics(prefix); // validates the prefix
        }

        public static TopicSettings defaults() {
            return new TopicSettings(null, 0, 0, 0, (short) 0);
        }

        public Topics names() {
            return new Topics(prefix);
        }
    }

    /** Dataset cache. Generation is deterministic for a given seed. */
    public record Data(String cacheDir, long seed) {
        public Data {
            cacheDir = cacheDir == null ? ".d2v/data" : cacheDir;
            seed = seed == 0 ? 20221212L : seed;
        }

        public static Data defaults() {
            return new Data(null, 0);
        }

        public Path cachePath() {
            return Path.of(cacheDir);
        }
    }

    /** Per-modality batch sizes (the seed's pitfall 11: images are redundant, tokens are not). */
    public record Batch(int image, int audio, int text) {
        public Batch {
            image = image == 0 ? 256 : image;
            audio = audio == 0 ? 64 : audio;
            text = text == 0 ? 64 : text;
            if (image < 1 || audio < 1 || text < 1) {
                throw new IllegalArgumentException("batch sizes must be >= 1");
            }
        }

        public static Batch defaults() {
            return new Batch(0, 0, 0);
        }

        public int of(Modality m) {
            return switch (m) {
                case IMAGE -> image;
                case AUDIO -> audio;
                case TEXT -> text;
            };
        }
    }

    public D2vConfig withBootstrap(String bootstrap) {
        return bootstrap == null ? this
                : new D2vConfig(new Kafka(bootstrap, kafka.dataDir(), kafka.port(), kafka.clientProperties()), topics, data, batch);
    }

    public D2vConfig withCacheDir(String cacheDir) {
        return cacheDir == null ? this : new D2vConfig(kafka, topics, new Data(cacheDir, data.seed()), batch);
    }

    public Topics topicNames() {
        return topics.names();
    }

    // ---- loading ------------------------------------------------------------------------------------

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Loads a YAML file; keys not given keep their defaults. Unknown keys are an error naming the key. */
    public static D2vConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("configuration file not found: " + file.toAbsolutePath()
                    + " (pass --config <file>; the documented default is config/d2v.yaml)");
        }
        try (InputStream in = Files.newInputStream(file)) {
            D2vConfig c = YAML.readValue(in, D2vConfig.class);
            return c == null ? defaults() : c;
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
