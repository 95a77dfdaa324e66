package dev.d2v.infra.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalKafkaExtension.class)
class LocalKafkaTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void serverPropertiesAreSingleNodeWithRaisedSizeLimits() {
        Map<String, String> p = LocalKafka.serverProperties(Path.of("/x/kraft"), 1234, 5678, 16 << 20);
        for (String key : List.of("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "transaction.state.log.min.isr", "min.insync.replicas", "default.replication.factor",
                "share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr")) {
            assertThat(p).as(key).containsEntry(key, "1");
        }
        assertThat(p.get("listeners")).isEqualTo("PLAINTEXT://127.0.0.1:1234,CONTROLLER://127.0.0.1:5678");
        assertThat(p.get("advertised.listeners")).isEqualTo("PLAINTEXT://127.0.0.1:1234");
        assertThat(p.get("controller.quorum.voters")).isEqualTo("1@127.0.0.1:5678");
        assertThat(Integer.parseInt(p.get("message.max.bytes"))).isGreaterThan(16 << 20);
        assertThat(p.get("replica.fetch.max.bytes")).isEqualTo(p.get("message.max.bytes"));
        assertThat(p).containsEntry("auto.create.topics.enable", "false").containsEntry("log.dirs", "/x/kraft");
    }

    @Test
    void tailReturnsTheLastLinesForErrorMessages(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("broker.log");
        Files.write(log, IntStream.range(0, 100).mapToObj(i -> "line " + i).toList());
        assertThat(LocalKafka.tail(log, 3).lines().toList()).containsExactly("line 97", "line 98", "line 99");
        assertThat(LocalKafka.tail(dir.resolve("missing.log"), 3)).startsWith("(cannot read");
    }

    @Test
    void occupiedPortFailsWithAClearMessage(@TempDir Path dir) throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> LocalKafka.start(LocalKafka.Settings.of(dir, taken.getLocalPort())))
                    .isInstanceOf(LocalKafka.LocalKafkaException.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                    .hasMessageContaining("already in use");
        }
    }

    @Test
    void producedRecordsAreConsumedExactly(LocalKafka kafka) throws Exception {
        String topic = createTopic(kafka.bootstrap(), 3);
        int n = 300;
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(kafka.bootstrap(), 1 << 20)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, bytes("k" + i), bytes("v" + i)));
            }
            producer.flush();
        }
        List<ConsumerRecord<byte[], byte[]>> read = KafkaTestClients.readAll(kafka.bootstrap(), topic, n, false, WAIT);
        assertThat(values(read)).hasSize(n)
                .isEqualTo(IntStream.range(0, n).mapToObj(i -> "v" + i).collect(Collectors.toSet()));
        assertThat(read.stream().map(ConsumerRecord::partition).distinct().count()).isEqualTo(3);
    }

    @Test
    void transactionalCommitIsVisibleAndAbortIsNotUnderReadCommitted(LocalKafka kafka) throws Exception {
        String topic = createTopic(kafka.bootstrap(), 2);
        try (KafkaProducer<byte[], byte[]> tx = KafkaTestClients.transactionalProducer(kafka.bootstrap(), "tx-" + topic)) {
            tx.beginTransaction();
            for (int i = 0; i < 40; i++) {
                tx.send(new ProducerRecord<>(topic, bytes("c" + i)));
            }
            tx.commitTransaction();
            tx.beginTransaction();
            for (int i = 0; i < 7; i++) {
                tx.send(new ProducerRecord<>(topic, bytes("a" + i)));
            }
            tx.flush();
            tx.abortTransaction();
        }
        List<ConsumerRecord<byte[], byte[]>> committed = KafkaTestClients.readAll(kafka.bootstrap(), topic, 40, true, WAIT);
        assertThat(values(committed)).hasSize(40).allMatch(v -> v.startsWith("c"));
        assertThat(committed).hasSize(40);
        List<ConsumerRecord<byte[], byte[]>> all = KafkaTestClients.readAll(kafka.bootstrap(), topic, 47, false, WAIT);
        assertThat(all).hasSize(47); // read_uncommitted sees the aborted ones: the filter above is real
    }

    @Test
    void stopStartKeepsThePortAndRestartOnTheSameFolderKeepsTheData(@TempDir Path dir) throws Exception {
        LocalKafka.Settings settings = LocalKafka.Settings.of(dir, 0);
        String topic;
        String clusterId;
        int firstPort;
        try (LocalKafka kafka = LocalKafka.start(settings)) {
            firstPort = kafka.port();
            clusterId = clusterId(settings);
            topic = createTopic(kafka.bootstrap(), 1);
            produce(kafka.bootstrap(), topic, "a", 20);

            kafka.stop(); // an outage
            assertThat(kafka.isRunning()).isFalse();
            kafka.start();
            assertThat(kafka.port()).isEqualTo(firstPort);
            produce(kafka.bootstrap(), topic, "b", 10);
            assertThat(KafkaTestClients.readAll(kafka.bootstrap(), topic, 30, false, WAIT)).hasSize(30);
        }
        try (LocalKafka again = LocalKafka.start(settings)) {
            assertThat(clusterId(settings)).as("formatted only once").isEqualTo(clusterId);
            List<ConsumerRecord<byte[], byte[]>> read = KafkaTestClients.readAll(again.bootstrap(), topic, 30, false, WAIT);
            assertThat(values(read)).hasSize(30).contains("a0", "a19", "b0", "b9");
        }
        assertThat(Files.readString(settings.logFile())).contains("Kafka Server started");
    }

    // ---- helpers -------------------------------------------------------------------------------------

    static String createTopic(String bootstrap, int partitions) throws Exception {
        String topic = "t-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
        return topic;
    }

    private static void produce(String bootstrap, String topic, String prefix, int n) {
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, bytes(prefix + i)));
            }
            producer.flush();
        }
    }

    private static String clusterId(LocalKafka.Settings settings) throws IOException {
        Properties meta = new Properties();
        try (InputStream in = Files.newInputStream(settings.dataDir().resolve("kraft/meta.properties"))) {
            meta.load(in);
        }
        return meta.getProperty("cluster.id");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Set<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).collect(Collectors.toSet());
    }
}
