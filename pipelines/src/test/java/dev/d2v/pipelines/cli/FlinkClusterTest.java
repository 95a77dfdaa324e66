package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.preprocess.cluster.LocalFlinkCluster;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preprocessing job on a real Flink cluster, not the MiniCluster: a standalone session cluster of Flink's own
 * JobManager and TaskManager processes ({@link LocalFlinkCluster}), the shaded job jar submitted with Flink's CLI,
 * a TaskManager killed with -9 in the middle of the job and a new one started: every sample ends in exactly one
 * committed batch.
 */
class FlinkClusterTest {

    private static final Path JOB_JAR_DIR = Path.of("..", "preprocess", "flink", "target");

    @TempDir
    Path dir;

    @Test
    void theJobJarRunsOnAStandaloneClusterAndSurvivesATaskManagerKilledWithMinus9() throws Exception {
        Path jobJar;
        try (Stream<Path> jars = Files.list(JOB_JAR_DIR)) {
            jobJar = jars.filter(p -> p.getFileName().toString().endsWith("-job.jar")).findFirst().orElseThrow(
                    () -> new AssertionError("no job jar in " + JOB_JAR_DIR + ": `mvn package` makes it"));
        }
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "fc" + UUID.randomUUID().toString().substring(0, 8);
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + bootstrap + "\ntopics:\n  prefix: " + prefix + "\n  partitions: 1\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();
        List<String> ids = new ArrayList<>();
        produce(bootstrap, topics, 0, 400, ids);

        try (LocalFlinkCluster cluster = LocalFlinkCluster.start(LocalFlinkCluster.Settings.of(dir.resolve("flink")), 1)) {
            String out = cluster.submit(jobJar, "dev.d2v.preprocess.job.PreprocessJobMain", List.of("--config",
                    cfg.toString(), "--modality", "image", "--parallelism", "1", "--batch-size", "4",
                    "--checkpoint-interval-ms", "500",
                    // full batches only: the reads below count batches (800 samples = 200 batches of 4); with the 5 s
                    // default a loaded machine, or the restore after the kill, sends a half-filled batch as a partial one
                    "--partial-timeout-ms", "600000"));
            Matcher m = Pattern.compile("JobID ([0-9a-f]{32})").matcher(out);
            assertThat(m.find()).as("the CLI names the job: %s", out).isTrue();
            String jobId = m.group(1);
            try {
                // a committed share of the work, then the only TaskManager dies mid-job
                assertThat(batches(bootstrap, topics, 20)).hasSizeGreaterThanOrEqualTo(20);
                cluster.killTaskManager(cluster.taskManagers().get(0));
                produce(bootstrap, topics, 400, 800, ids);
                cluster.startTaskManager();
                List<Minibatch> all = batches(bootstrap, topics, 200);
                List<String> trained = all.stream().flatMap(b -> b.sampleIds().stream()).toList();
                assertThat(trained).as("read_committed: every sample in exactly one batch")
                        .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
                assertThat(cluster.rest("/jobs/" + jobId)).contains("\"state\":\"RUNNING\"");
            } finally {
                cluster.cancel(jobId);
            }
        }
    }

    private static List<Minibatch> batches(String bootstrap, Topics topics, int atLeast) {
        List<Minibatch> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.batch(Modality.IMAGE), atLeast,
                true, Duration.ofMinutes(3))) {
            out.add(MinibatchCodec.inline().decode(r.value()));
        }
        return out;
    }

    private static void produce(String bootstrap, Topics topics, int from, int to, List<String> ids) throws Exception {
        SplittableRandom r = new SplittableRandom(from);
        // checked: a record the broker never acknowledged fails here, not later as samples missing from the batches
        try (KafkaTestClients.Checked p = KafkaTestClients.checkedProducer(bootstrap, 1 << 20)) {
            for (int i = from; i < to; i++) {
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 28; y++) {
                    for (int x = 0; x < 28; x++) {
                        img.getRaster().setSample(x, y, 0, r.nextInt(256));
                    }
                }
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(img, "png", png);
                String id = "img-" + i;
                ids.add(id);
                p.send(new ProducerRecord<>(topics.raw(Modality.IMAGE), null, id.getBytes(StandardCharsets.UTF_8),
                        png.toByteArray(), new RawHeaders("image/png", "cluster-test", Optional.empty(), Optional.empty(),
                        0).toKafka()));
            }
            p.flush();
        }
    }
}
