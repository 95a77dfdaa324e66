package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.demo.DemoSettings;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessProgress;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `d2v demo` reduced to fit a test on 2 cores: 32 generated images (image only: three modalities' data synthesis
 * does not fit), batches of 8, a few trainer steps, one evaluation; every stage in this JVM on the demo's own broker.
 * Then a rerun after a simulated interruption of the preprocessing job (its group's committed offset moved back).
 */
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void shippedDemoSettingsLoadsWithEveryModality() {
        DemoSettings c = DemoSettings.load(Path.of("..", "config", "demo.yaml"));
        assertThat(c.modalityList()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.TEXT);
        assertThat(c.finetune()).isFalse();
        assertThat(c.withTrainMinutes(2.0).trainMinutes()).isEqualTo(2.0);
        assertThat(c).isEqualTo(DemoSettings.defaults());   // the file documents the built-in defaults
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

        String firstRun = stdout(() -> Main.run("demo", "--config", baseYaml.toString(), "--config-demo",
                demoYaml.toString()));

        var newest = CheckpointStore.newestValid(demoDir.resolve("run").resolve("checkpoints")).checkpoint().orElseThrow();
        assertThat(newest.manifest().step()).isEqualTo(4);  // 32 records in batches of 8, each trained once
        assertThat(demoDir.resolve("eval").resolve("report.html")).exists();
        assertThat(firstRun).contains("raw image: 32 records, preprocessed 0; preprocessing");
        // the summary table (printed by evaluate and again as the demo's summary): accuracy and its 95% interval,
        // random init, raw pixels
        assertThat(firstRun.lines().filter(l -> l.matches("image +halves +(linear|knn) .*")).distinct().toList()).hasSize(2)
                .allSatisfy(l -> assertThat(l).matches(".* \\d+\\.\\d% ±\\d+\\.\\d +\\d+\\.\\d% +\\d+\\.\\d% .*"));
        assertThat(firstRun).contains("random init  raw features");

        // the demo stopped its broker; the bounded job committed every raw offset to its group on its last checkpoint
        PipelineConfig c = PipelineConfig.load(demoDir.resolve("d2v.yaml"));
        Topics t = c.topicNames();
        String group = PreprocessJobConfig.groupId(c.topics().prefix(), Modality.IMAGE);
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(demoDir.resolve("kafka"), LocalKafka.freePort()));
             TopicAdmin admin = new TopicAdmin(broker.clientProps())) {
            List<PreprocessProgress> done = PreprocessProgress.read(admin.admin(), c.topics().prefix(), List.of(Modality.IMAGE));
            assertThat(done).containsExactly(new PreprocessProgress(Modality.IMAGE, t.raw(Modality.IMAGE), 32, 32, 0));
            // as if Ctrl-C had stopped the job after the checkpoint that committed 24 of the 32 raw records
            admin.admin().alterConsumerGroupOffsets(group, Map.of(new TopicPartition(t.raw(Modality.IMAGE), 0),
                    new OffsetAndMetadata(24))).all().get();
        }

        // a second run resumes: nothing is ingested again, the job processes the 8 records past the committed offset
        // into a fifth batch, the trainer resumes at step 4 and trains it
        String secondRun = stdout(() -> Main.run("demo", "--config", baseYaml.toString(), "--config-demo",
                demoYaml.toString(), "--minutes", "1"));
        assertThat(secondRun).contains("image: " + t.raw(Modality.IMAGE) + " already holds 32 records",
                "raw image: 32 records, preprocessed 24; resuming preprocessing");
        assertThat(CheckpointStore.newestValid(demoDir.resolve("run").resolve("checkpoints")).checkpoint().orElseThrow()
                .manifest().step()).isEqualTo(5);

        // its storage holds what every stage wrote
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(demoDir.resolve("kafka"), LocalKafka.freePort()));
             TopicAdmin admin = new TopicAdmin(broker.clientProps())) {
            assertThat(admin.list(List.of(t.raw(Modality.IMAGE))).get(0).recordCount()).isEqualTo(32);
            assertThat(admin.committedCount(t.batch(Modality.IMAGE), Duration.ofSeconds(30))).isEqualTo(5);
            assertThat(PreprocessProgress.read(admin.admin(), c.topics().prefix(), List.of(Modality.IMAGE)).get(0).complete())
                    .isTrue();
            List<CheckpointEvent> events = KafkaTestClients.readAll(broker.bootstrap(), t.checkpoints(), 3, true,
                    Duration.ofSeconds(30)).stream().map(r -> CheckpointEvent.fromJson(r.value())).toList();
            assertThat(events).extracting(CheckpointEvent::step).contains(2L, 4L, 5L);
            // the first run's 4 batches were one transaction (offsets 0-3, its marker at 4)
            assertThat(events.stream().filter(e -> e.step() == 4).findFirst().orElseThrow().offsets())
                    .containsEntry(t.batch(Modality.IMAGE) + ":0", 4L);
            assertThat(events.get(events.size() - 1).offsets().get(t.batch(Modality.IMAGE) + ":0")).isGreaterThan(4L);
            List<ConsumerRecord<byte[], byte[]>> evals = KafkaTestClients.readAll(broker.bootstrap(), t.eval(), 4, true,
                    Duration.ofSeconds(30));
            assertThat(evals).hasSizeGreaterThanOrEqualTo(4);   // linear probe and k-NN of each run's final checkpoint
        }
    }

    interface DemoRun {
        int run() throws Exception;
    }

    /** Runs the demo with stdout captured (and still printed); fails unless it exits 0. */
    private static String stdout(DemoRun demo) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(new TeeOutputStream(original, buffer), true, StandardCharsets.UTF_8));
        try {
            code = demo.run();
        } finally {
            System.setOut(original);
        }
        assertThat(code).isZero();
        return buffer.toString(StandardCharsets.UTF_8);
    }

    private static final class TeeOutputStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeOutputStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
