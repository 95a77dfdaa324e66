package dev.d2v.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Mnist;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ingest into a real local broker (the project's launcher); records counted by key. */
class IngestorKafkaTest {
    private static final int MAX = 1024 * 1024;

    @TempDir
    Path dir;

    private static Topics freshTopics() throws Exception {
        Topics topics = new Topics("it" + UUID.randomUUID().toString().substring(0, 8));
        PipelineConfig.TopicSettings settings = new PipelineConfig.TopicSettings(topics.prefix(), 2, null, MAX, (short) 1);
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (TopicAdmin admin = new TopicAdmin(client)) {
            admin.ensureTopics(settings);
        }
        return topics;
    }

    private static Ingestor.Summary ingest(Topics topics, Path root, String name, long limit) throws IOException {
        Properties client = new Properties();
        client.put("bootstrap.servers", SharedLocalKafka.bootstrap());
        try (KafkaProducer<byte[], byte[]> p = Ingestor.producer(client, MAX)) {
            return new Ingestor(p, topics, new Ingestor.Options(limit, 0, MAX - 64 * 1024), null)
                    .run(Sources.folder(root, name), null);
        }
    }

    private static Map<String, ConsumerRecord<byte[], byte[]>> byKey(Topics topics, Modality m, int expected) {
        List<ConsumerRecord<byte[], byte[]>> recs = KafkaTestClients.readAll(SharedLocalKafka.bootstrap(),
                topics.raw(m), expected, false, Duration.ofSeconds(30));
        Map<String, ConsumerRecord<byte[], byte[]>> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            assertThat(out.put(new String(r.key(), StandardCharsets.UTF_8), r)).as("duplicate key").isNull();
        }
        assertThat(recs).hasSize(out.size());
        return out;
    }

    @Test
    void datasetSubsetLandsExactlyOncePerKeyWithLabelAndSplit() throws Exception {
        Topics topics = freshTopics();
        DataContext ctx = new DataContext(dir.resolve("cache"), 1, 30, null);
        Mnist fm = new Mnist();
        fm.fetch(ctx);
        Ingestor.Summary s = ingest(topics, fm.root(ctx), fm.name(), 45);
        assertThat(s.sent()).isEqualTo(45);
        assertThat(s.skipped()).isEmpty();
        Map<String, ConsumerRecord<byte[], byte[]>> got = byKey(topics, Modality.IMAGE, 45);
        assertThat(got).hasSize(45);
        // train comes first in walk order: 30 train + 15 test
        long train = got.values().stream().filter(r -> RawHeaders.fromKafka(r.headers()).split().orElse("").equals("train")).count();
        assertThat(train).isEqualTo(30);
        ConsumerRecord<byte[], byte[]> any = got.values().iterator().next();
        RawHeaders h = RawHeaders.fromKafka(any.headers());
        assertThat(h.contentType()).isEqualTo("image/png");
        assertThat(h.label()).isPresent();
        String key = new String(any.key(), StandardCharsets.UTF_8);
        assertThat(key).startsWith("mnist/").contains("/" + h.label().orElseThrow() + "/");
        // the value is the PNG file itself
        Path file = fm.root(ctx).resolve(key.substring("mnist/".length()) + ".png");
        assertThat(any.value()).isEqualTo(Files.readAllBytes(file));
    }

    @Test
    void folderWithUnreadableAndOversizedFilesSendsExactlyTheGoodOnes() throws Exception {
        Topics topics = freshTopics();
        Path root = dir.resolve("mine");
        Files.createDirectories(root.resolve("train/cat"));
        Files.createDirectories(root.resolve("docs"));
        for (int i = 0; i < 5; i++) {
            Files.write(root.resolve("train/cat/" + i + ".png"), new byte[] {(byte) i, 1, 2});
        }
        Files.writeString(root.resolve("docs/a.txt"), "hello world");
        Files.writeString(root.resolve("docs/b.txt"), "second");
        Files.createSymbolicLink(root.resolve("train/cat/dangling.png"), root.resolve("missing.png"));
        Files.write(root.resolve("train/cat/huge.png"), new byte[MAX]);
        Files.writeString(root.resolve("readme.md"), "not ingested");

        Ingestor.Summary s = ingest(topics, root, "mine", 0);
        assertThat(s.sent()).isEqualTo(7);
        assertThat(s.skipped()).extracting(Ingestor.Skipped::reason)
                .hasSize(2).anyMatch(r -> r.startsWith("unreadable")).anyMatch(r -> r.startsWith("oversized"));
        Map<String, ConsumerRecord<byte[], byte[]>> images = byKey(topics, Modality.IMAGE, 5);
        assertThat(images.keySet()).containsExactlyInAnyOrder(
                "mine/train/cat/0", "mine/train/cat/1", "mine/train/cat/2", "mine/train/cat/3", "mine/train/cat/4");
        Map<String, ConsumerRecord<byte[], byte[]>> texts = byKey(topics, Modality.TEXT, 2);
        assertThat(texts.keySet()).containsExactlyInAnyOrder("mine/docs/a", "mine/docs/b");
        // both skipped files are on the dead-letter topic too, named, with their reason and without a value
        Map<String, DeadLetter> dead = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(SharedLocalKafka.bootstrap(), topics.deadLetter(),
                2, true, Duration.ofSeconds(30))) {
            DeadLetter d = DeadLetter.fromConsumerRecord(r);
            dead.put(new String(d.key(), StandardCharsets.UTF_8), d);
        }
        assertThat(dead).containsOnlyKeys("mine/train/cat/dangling", "mine/train/cat/huge");
        assertThat(dead.get("mine/train/cat/huge").stage()).isEqualTo("ingest.image.oversized");
        assertThat(dead.get("mine/train/cat/huge").errorMessage()).contains(MAX + " bytes");
        assertThat(dead.get("mine/train/cat/huge").value()).isNull();
        assertThat(dead.get("mine/train/cat/dangling").stage()).isEqualTo("ingest.image.unreadable");
        assertThat(new String(texts.get("mine/docs/a").value(), StandardCharsets.UTF_8)).isEqualTo("hello world");
        assertThat(RawHeaders.fromKafka(texts.get("mine/docs/a").headers()).label()).isEmpty();
    }

    @Test
    void limitStopsAfterNRecords() throws Exception {
        Topics topics = freshTopics();
        Path root = dir.resolve("many");
        Files.createDirectories(root);
        for (int i = 0; i < 20; i++) {
            Files.writeString(root.resolve(String.format("%02d.txt", i)), "t" + i);
        }
        assertThat(ingest(topics, root, "many", 7).sent()).isEqualTo(7);
        assertThat(byKey(topics, Modality.TEXT, 7)).hasSize(7).containsKey("many/00").containsKey("many/06");
    }
}
