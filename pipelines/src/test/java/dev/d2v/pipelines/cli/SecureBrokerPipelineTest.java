package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.BrokerSecurity;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.pipelines.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline over TLS and SCRAM-SHA-512: the project's own broker started with SASL_SSL, and ingest, the Flink
 * preprocessing job, the trainer and the evaluator ({@code --follow}, reading d2v.checkpoints and publishing to
 * d2v.eval) run with the credentials in kafka.clientProperties, as a user configures them for a secured cluster.
 * A client without them, or with a wrong password, is refused.
 */
class SecureBrokerPipelineTest {

    @TempDir
    Path dir;

    @Test
    void everyStageRunsOverTlsAndScramAndAClientWithoutCredentialsIsRefused() throws Exception {
        try (LocalKafka broker = LocalKafka.start(LocalKafka.Settings.of(dir.resolve("kafka"), 0)
                .withSecurity(LocalKafka.Security.SASL_SSL))) {
            BrokerSecurity s = broker.security();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir()))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir().resolve("credentials.properties"))))
                    .isEqualTo("rw-------");

            // the user's configuration of a secured cluster: bootstrap and kafka.clientProperties
            Path cfg = dir.resolve("d2v.yaml");
            StringBuilder yaml = new StringBuilder("kafka:\n  bootstrap: " + broker.bootstrap() + "\n  clientProperties:\n");
            broker.securityProperties().forEach((k, v) -> yaml.append("    ").append(k).append(": '")
                    .append(v.replace("'", "''")).append("'\n"));
            yaml.append("topics:\n  partitions: 1\ndata:\n  cacheDir: ").append(dir.resolve("cache")).append("\nbatch:\n  image: 8\n");
            Files.writeString(cfg, yaml);
            PipelineConfig c = PipelineConfig.load(cfg);
            assertThat(c.toString()).doesNotContain(s.clientPassword());
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                admin.ensureTopics(c.topics());
            }
            Topics topics = c.topicNames();

            Path images = ProbeImages.halves(dir.resolve("halves"));
            assertThat(Main.run("ingest", "--config", cfg.toString(), "--dir", images.toString())).isZero();
            assertThat(Main.run("preprocess", "--config", cfg.toString(), "--modality", "image", "--bounded",
                    "--checkpoint-interval-ms", "500")).isZero();
            Path run = dir.resolve("run");
            assertThat(Main.run("train", "--config", cfg.toString(), "--modality", "image", "--preset", "cpu", "--out",
                    run.toString(), "--sample-log", "--idle-stop-seconds", "10", "--threads", "2", "--checkpoint-every", "3",
                    "--schedule-steps", "20")).isZero();
            List<String> trained = new ArrayList<>();
            ObjectMapper json = new ObjectMapper();
            for (String line : Files.readAllLines(run.resolve("trained-samples.jsonl"))) {
                json.readTree(line).get("ids").forEach(id -> trained.add(id.asText()));
            }
            assertThat(trained).hasSize(48).doesNotHaveDuplicates();
            assertThat(Main.run("evaluate", "--config", cfg.toString(), "--follow", "--policy", "newest", "--group",
                    "eval-secure", "--task", images.toString(), "--no-finetune", "--threads", "1", "--nice", "0",
                    "--out", dir.resolve("eval").toString(), "--max-checkpoints", "1", "--idle-stop-seconds", "60",
                    "--checkpoint-root", run.toString())).isZero();
            List<EvalEvent> events = KafkaTestClients.readAll(c.kafka().clientProps(), topics.eval(), 1, true,
                    Duration.ofSeconds(30)).stream().map(r -> EvalEvent.fromJson(r.value())).toList();
            assertThat(events).isNotEmpty();

            // without the credentials: nothing
            Properties plain = new Properties();
            plain.put("bootstrap.servers", broker.bootstrap());
            assertRefused(plain);
            Properties wrong = c.kafka().clientProps();
            wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"d2v\" password=\"not-the-password\";");
            assertThatThrownBy(() -> listTopics(wrong)).hasRootCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    private static Object listTopics(Properties p) throws Exception {
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        try (Admin admin = Admin.create(p)) {
            return admin.listTopics().names().get(10, TimeUnit.SECONDS);
        }
    }

    /** A client that speaks PLAINTEXT to the TLS listener gets no answer: its request times out. */
    private static void assertRefused(Properties p) {
        assertThatThrownBy(() -> listTopics(p)).isInstanceOfAny(ExecutionException.class,
                TimeoutException.class);
    }
}
