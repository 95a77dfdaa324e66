package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.bench.BenchResult;
import dev.d2v.pipelines.bench.PreprocessBench;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreprocessCommandTest {

    @TempDir
    Path dir;

    @Test
    void helpNamesTheOptions() {
        assertThat(Main.commandLine().execute("preprocess", "--help")).isZero();
        assertThat(Main.commandLine().getSubcommands().get("preprocess").getUsageMessage())
                .contains("--modality").contains("--bounded").contains("--vocab").contains("--parallelism");
        assertThat(Main.commandLine().getSubcommands().get("bench").getSubcommands().get("preprocess").getUsageMessage())
                .contains("--no-flink").contains("--scale");
    }

    @Test
    void boundedTextRunBatchesTheRawTopicWithAVocabularyBuiltFromIt() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "cli" + UUID.randomUUID().toString().substring(0, 8);
        Path cache = dir.resolve("cache");
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\ndata:\n  cacheDir: " + cache + "\nbatch:\n  text: 4\n");
        D2vConfig c = D2vConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 6; i++) {
                p.send(new ProducerRecord<>(topics.raw(Modality.TEXT), null, ("t" + i).getBytes(StandardCharsets.UTF_8),
                        ("a line of text number " + i).getBytes(StandardCharsets.UTF_8),
                        new RawHeaders(Modality.TEXT.defaultContentType(), "test", Optional.empty(), Optional.empty(), 0)
                                .toKafka()));
            }
        }

        int code = Main.run("preprocess", "--config", cfg.toString(), "--modality", "text", "--bounded",
                "--checkpoint-interval-ms", "200");

        assertThat(code).isZero();
        assertThat(cache.resolve("vocab").resolve("text.vocab")).isRegularFile();
        List<Minibatch> batches = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.batch(Modality.TEXT), 2, true,
                Duration.ofSeconds(30))) {
            batches.add(MinibatchCodec.inline().decode(r.value()));
        }
        assertThat(batches).extracting(Minibatch::batchSize).containsExactlyInAnyOrder(4, 2);
        assertThat(batches.stream().flatMap(b -> b.sampleIds().stream()))
                .containsExactlyInAnyOrder("t0", "t1", "t2", "t3", "t4", "t5");
    }

    @Test
    void benchPrintsTheStableNamesAsJsonLines() throws Exception {
        List<BenchResult> results = PreprocessBench.run(new PreprocessBench.Settings(
                Map.of(Modality.IMAGE, 20, Modality.AUDIO, 4, Modality.TEXT, 40), false, null, dir, 1), r -> { });
        assertThat(results).extracting(BenchResult::name).containsExactly("records_per_s_per_core",
                "records_per_s_per_core", "audio_realtime_factor", "records_per_s_per_core", "text_tokens_per_s");
        assertThat(results).allSatisfy(r -> assertThat(r.value()).isPositive());
        assertThat(results.get(0).toJson()).startsWith("{\"name\":\"records_per_s_per_core\",\"value\":")
                .contains("\"unit\":\"records/s\",\"modality\":\"image\",\"stage\":\"transform\",\"records\":20");
    }
}
