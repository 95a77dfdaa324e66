package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.demo.DemoConfig;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `d2v demo` reduced to fit a test on 2 cores: 32 generated images (image only: three modalities' data synthesis
 * does not fit), batches of 8, a few trainer steps, one evaluation; every stage in this JVM on the demo's own broker.
 */
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void shippedDemoConfigLoadsWithEveryModality() {
        DemoConfig c = DemoConfig.load(Path.of("..", "config", "demo.yaml"));
        assertThat(c.modalityList()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.TEXT);
        assertThat(c.finetune()).isFalse();
        assertThat(c.withTrainMinutes(2.0).trainMinutes()).isEqualTo(2.0);
        assertThat(c).isEqualTo(DemoConfig.defaults());   // the file documents the built-in defaults
    }

    @Test
    void recordsFlowThroughEveryStageToACheckpointAndItsEvaluation() throws Exception {
        Path images = ProbeImages.halves(dir.resolve("halves"));
        Path demoDir = dir.resolve("demo");
        Path demoYaml = dir.resolve("demo.yaml");
        Files.writeString(demoYaml, String.join("\n",
                "dir: " + demoDir,
                "modalities: [image]",
                "datasets: {image: " + images + "}",
                "records: {image: 32}",
                "batch: {image: 8}",
                "trainMinutes: 2",
                "checkpointEvery: 2",
                "scheduleSteps: 20",
                "threads: 1",
                "idleStopSeconds: 10",
                "probeTrainLimit: 32",
                "probeTestLimit: 16", ""));
        Path baseYaml = dir.resolve("d2v.yaml");
        Files.writeString(baseYaml, "topics:\n  partitions: 1\ndata:\n  cacheDir: " + dir.resolve("cache") + "\n");

        assertThat(Main.run("demo", "--config", baseYaml.toString(), "--config-demo", demoYaml.toString())).isZero();

        var newest = CheckpointStore.newestValid(demoDir.resolve("run").resolve("checkpoints")).checkpoint().orElseThrow();
        assertThat(newest.manifest().step()).isEqualTo(4);  // 32 records in batches of 8, each trained once
        assertThat(demoDir.resolve("eval").resolve("report.html")).exists();

        // a second run resumes: nothing is ingested or preprocessed again, the trainer resumes at step 4
        assertThat(Main.run("demo", "--config", baseYaml.toString(), "--config-demo", demoYaml.toString(),
                "--minutes", "0.1")).isZero();
        assertThat(CheckpointStore.newestValid(demoDir.resolve("run").resolve("checkpoints")).checkpoint().orElseThrow()
                .manifest().step()).isEqualTo(4);

        // the demo stopped its broker; its storage holds what every stage wrote
        D2vConfig c = D2vConfig.load(demoDir.resolve("d2v.yaml"));
        Topics t = c.topicNames();
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(demoDir.resolve("kafka"), LocalKafka.freePort()));
             TopicAdmin admin = new TopicAdmin(broker.clientProps())) {
            assertThat(admin.list(List.of(t.raw(Modality.IMAGE))).get(0).recordCount()).isEqualTo(32);
            assertThat(admin.committedCount(t.batch(Modality.IMAGE), Duration.ofSeconds(30))).isEqualTo(4);
            List<CheckpointEvent> events = KafkaTestClients.readAll(broker.bootstrap(), t.checkpoints(), 2, true,
                    Duration.ofSeconds(30)).stream().map(r -> CheckpointEvent.fromJson(r.value())).toList();
            assertThat(events).extracting(CheckpointEvent::step).contains(2L, 4L);
            assertThat(events.get(events.size() - 1).offsets()).containsEntry(t.batch(Modality.IMAGE) + ":0", 4L);
            List<ConsumerRecord<byte[], byte[]>> evals = KafkaTestClients.readAll(broker.bootstrap(), t.eval(), 2, true,
                    Duration.ofSeconds(30));
            assertThat(evals).hasSizeGreaterThanOrEqualTo(2);   // linear probe and k-NN of the final checkpoint
        }
    }
}
