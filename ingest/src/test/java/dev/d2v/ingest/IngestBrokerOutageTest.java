package dev.d2v.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker lost in the middle of an ingest: the run reports its failed sends, and the rerun sends each id once. */
class IngestBrokerOutageTest {

    private static final int ITEMS = 300;

    @TempDir
    Path dir;

    @Test
    void aRerunAfterTheBrokerWasLostSendsOnlyWhatIsMissingWithoutADuplicate() throws Exception {
        Path docs = dir.resolve("docs");
        Files.createDirectories(docs);
        for (int i = 0; i < ITEMS; i++) {
            Files.writeString(docs.resolve(i + ".txt"), "text number " + i);
        }
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(dir.resolve("kafka"), 0))) {
            Path cfg = dir.resolve("d2v.yaml");
            // short client timeouts: a send the broker does not take fails in seconds, not minutes
            Files.writeString(cfg, String.join("\n", "kafka:", "  bootstrap: " + broker.bootstrap(), "  clientProperties:",
                    "    delivery.timeout.ms: '8000'", "    request.timeout.ms: '3000'", "    max.block.ms: '3000'",
                    "topics:", "  partitions: 1", "data:", "  cacheDir: " + dir.resolve("cache"), ""));
            PipelineConfig c = PipelineConfig.load(cfg);
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                admin.ensureTopics(c.topics());
            }
            String topic = c.topicNames().raw(Modality.TEXT);

            AtomicReference<Ingestor.Summary> first = new AtomicReference<>();
            Thread ingest = new Thread(() -> {
                try (Stream<RawItem> items = Sources.folder(docs, "docs")) {
                    first.set(Ingestor.send(c, items, 0, 100, "ingest", s -> {}));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ingest.start();
            Thread.sleep(1500);   // about a third sent (100 records/s)
            broker.stop();
            ingest.join(Duration.ofSeconds(60).toMillis());
            assertThat(ingest.isAlive()).as("the first run ends: %s", Arrays.toString(ingest.getStackTrace()))
                    .isFalse();
            assertThat(first.get().ok()).as("the first run reports its failed sends").isFalse();
            assertThat(first.get().failedSends()).isPositive();

            broker.start();
            Ingestor.Summary second;
            try (Stream<RawItem> items = Sources.folder(docs, "docs")) {
                second = Ingestor.send(c, items, 0, 0, "ingest", s -> {});
            }
            assertThat(second.ok()).isTrue();
            assertThat(second.alreadySent()).as("not sent again").isPositive();
            assertThat(second.alreadySent() + second.sent()).isEqualTo(ITEMS);

            List<ConsumerRecord<byte[], byte[]>> all = KafkaTestClients.readAll(broker.bootstrap(), topic, ITEMS, false,
                    Duration.ofSeconds(30));
            List<String> keys = all.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
            assertThat(keys).as("every id once").hasSize(ITEMS).doesNotHaveDuplicates();
        }
    }
}
