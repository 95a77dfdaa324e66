package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.pipelines.Main;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `d2v train` end to end on the local broker: cpu preset, 28x28 images as the default transforms make them. */
class TrainCommandTest {

    @TempDir
    Path dir;

    @Test
    void helpListsTheOptions() {
        assertThat(Main.commandLine().getSubcommands().get("train").getUsageMessage())
                .contains("--modality").contains("--weights").contains("--checkpoint-every").contains("--metrics-port")
                .contains("--sample-log");
        assertThat(Main.commandLine().getSubcommands().get("bench").getSubcommands().get("train-stream").getUsageMessage())
                .contains("--batches");
    }

    @Test
    void trainsFromTheBatchTopicCheckpointsAnnouncesAndResumes() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "tr" + UUID.randomUUID().toString().substring(0, 8);
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();
        MinibatchCodec codec = MinibatchCodec.inline();
        SplittableRandom r = new SplittableRandom(1);
        long hash = Transforms.defaults().configHash(Modality.IMAGE, null);   // what ./d2v preprocess stamps
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            for (int i = 0; i < 7; i++) {   // batch 3 comes from another preprocessing config: dead-lettered
                byte[] px = new byte[4 * 28 * 28];
                for (int j = 0; j < px.length; j++) {
                    px[j] = (byte) r.nextInt(256);
                }
                List<String> ids = List.of("s" + i + "a", "s" + i + "b", "s" + i + "c", "s" + i + "d");
                Minibatch b = Minibatch.builder(Modality.IMAGE, 4, 1, 28, 28).sampleIds(ids)
                        .preprocessConfigHash(i == 3 ? hash ^ 1 : hash).createdAtMs(System.currentTimeMillis()).uint8(px);
                p.send(new ProducerRecord<>(topics.batch(Modality.IMAGE), null, codec.encode(b))).get();
            }
        }
        Path out = dir.resolve("run");
        String[] common = {"train", "--config", cfg.toString(), "--modality", "image", "--preset", "cpu", "--out",
                out.toString(), "--checkpoint-every", "2", "--sample-log", "--idle-stop-seconds", "30", "--threads", "2",
                "--schedule-steps", "100"};
        assertThat(Main.run(concat(common, "--steps", "4"))).isZero();
        assertThat(CheckpointStore.newestValid(out.resolve("checkpoints")).checkpoint().orElseThrow().manifest().step())
                .isEqualTo(4);
        assertThat(Main.run(concat(common, "--steps", "6"))).isZero();   // resumes at 4, trains batches 4 and 5

        ObjectMapper json = new ObjectMapper();
        List<String> trained = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("trained-samples.jsonl"))) {
            json.readTree(line).get("ids").forEach(id -> trained.add(id.asText()));
        }
        assertThat(trained).hasSize(24).doesNotHaveDuplicates().noneMatch(id -> id.startsWith("s3"));
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(6);
        assertThat(out.resolve("encoder").resolve("encoder.safetensors")).exists();
        List<CheckpointEvent> events = KafkaTestClients.readAll(bootstrap, topics.checkpoints(), 3, true,
                Duration.ofSeconds(30)).stream().map(x -> CheckpointEvent.fromJson(x.value())).toList();
        assertThat(events).extracting(CheckpointEvent::step).containsExactly(2L, 4L, 6L);
        assertThat(events.get(2).offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", 7L);
        DeadLetter dead = DeadLetter.fromConsumerRecord(KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 1, true,
                Duration.ofSeconds(30)).get(0));
        assertThat(dead.offset()).isEqualTo(3L);
        assertThat(dead.errorMessage()).contains("preprocess config hash").contains(String.format("%016x", hash));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
