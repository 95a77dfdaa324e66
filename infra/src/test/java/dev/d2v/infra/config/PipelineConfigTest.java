package dev.d2v.infra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineConfigTest {
    private static final Path SHIPPED = Path.of("..", "config", "d2v.yaml");

    @TempDir
    Path dir;

    private PipelineConfig load(String yaml) throws IOException {
        Path f = dir.resolve("d2v.yaml");
        Files.writeString(f, yaml);
        return PipelineConfig.load(f);
    }

    @Test
    void aKafkaSectionWithoutPortKeepsTheDefaultPort() throws IOException {
        PipelineConfig c = load("kafka:\n  bootstrap: 10.0.0.1:9092\n");
        assertThat(c.kafka().port()).isEqualTo(9092);
        assertThat(c.kafka().bootstrap()).isEqualTo("10.0.0.1:9092");
        assertThat(c.kafka().dataDir()).isEqualTo(".d2v/kafka");
    }

    private static final String SECURED = """
            kafka:
              bootstrap: broker.example:9093
              clientProperties:
                security.protocol: SASL_SSL
                sasl.mechanism: SCRAM-SHA-512
                sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required username="d2v" password="s3cret";
                ssl.truststore.location: /etc/d2v/truststore.p12
                ssl.truststore.password: trust-me
                client.id: d2v-test
            """;

    @Test
    void credentialsAreNeverPrintedAndNotSentToTheLocalBroker() throws IOException {
        PipelineConfig c = load(SECURED);
        assertThat(c.toString()).doesNotContain("s3cret").doesNotContain("trust-me").contains("[hidden]")
                .contains("SCRAM-SHA-512").contains("/etc/d2v/truststore.p12");
        assertThat(c.kafka().toString()).doesNotContain("s3cret");
        PipelineConfig local = c.forLocalBroker("127.0.0.1:40000");
        assertThat(local.kafka().bootstrap()).isEqualTo("127.0.0.1:40000");
        assertThat(local.kafka().clientProperties()).containsOnlyKeys("client.id");
        assertThat(local.toYaml()).doesNotContain("s3cret").doesNotContain("sasl").doesNotContain("trust-me");
        assertThat(c.kafka().clientProps()).containsEntry("security.protocol", "SASL_SSL");   // the real cluster keeps them
    }

    @Test
    void portZeroMeansAnyFreePort() throws IOException {
        assertThat(load("kafka:\n  port: 0\n").kafka().port()).isZero();
    }

    @Test
    void sectionsWithSomeKeysKeepTheOthersDefaults() throws IOException {
        PipelineConfig c = load("topics:\n  prefix: x\nbatch:\n  text: 8\ndata:\n  cacheDir: /c\n");
        assertThat(c.topics()).isEqualTo(new PipelineConfig.TopicSettings("x", null, null, null, null));
        assertThat(c.topics().partitions()).isEqualTo(2);
        assertThat(c.batch()).isEqualTo(new PipelineConfig.Batch(256, 64, 8));
        assertThat(c.data().seed()).isEqualTo(20221212L);
    }

    @Test
    void anExplicitZeroIsCheckedAsWrittenNotTakenForTheDefault() throws IOException {
        assertThat(load("data:\n  seed: 0\n").data().seed()).isZero();   // a seed like any other
        assertThatThrownBy(() -> load("topics:\n  partitions: 0\n")).hasMessageContaining("topics.partitions must be >= 1");
        assertThatThrownBy(() -> load("topics:\n  retentionMs: 0\n")).hasMessageContaining("topics.retentionMs");
        assertThatThrownBy(() -> load("topics:\n  maxMessageBytes: 0\n")).hasMessageContaining("topics.maxMessageBytes");
        assertThatThrownBy(() -> load("topics:\n  replicationFactor: 0\n")).hasMessageContaining("topics.replicationFactor");
        assertThatThrownBy(() -> load("batch:\n  image: 0\n")).hasMessageContaining("batch sizes must be >= 1");
        assertThat(load("topics:\n  retentionMs: -1\n").topics().retentionMs()).isEqualTo(-1L);
    }

    @Test
    void modelOverridesReadAsAListOrAMapInOrder() throws IOException {
        PipelineConfig list = load("model:\n  preset: tiny\n  set: [model.dim=192, optim.lr=5e-4]\n");
        PipelineConfig map = load("model:\n  preset: tiny\n  set: {model.dim: 192, optim: {lr: 5e-4}}\n");
        assertThat(list.model().preset()).isEqualTo("tiny");
        assertThat(list.model().set()).containsExactly("model.dim=192", "optim.lr=5e-4");
        assertThat(map.model()).isEqualTo(list.model());
        assertThat(load("batch:\n  image: 8\n").model()).isEqualTo(new PipelineConfig.Model("cpu", List.of()));
        assertThatThrownBy(() -> load("model:\n  set: [model.dim]\n")).hasMessageContaining("'model.dim' is not KEY=VALUE");
    }

    @Test
    void transformOverridesReadAsAListOrAMapAndTheCommandLinesComeAfter() throws IOException {
        PipelineConfig map = load("transforms:\n  set: {image: {flipProbability: 0, cropScaleMin: 0.6}}\n");
        assertThat(map.transforms().set()).containsExactly("image.flipProbability=0", "image.cropScaleMin=0.6");
        assertThat(load("transforms:\n  set: [image.flipProbability=0, image.cropScaleMin=0.6]\n")).isEqualTo(map);
        assertThat(map.withTransformOverrides(List.of("image.flipProbability=0.5")).transforms().set())
                .containsExactly("image.flipProbability=0", "image.cropScaleMin=0.6", "image.flipProbability=0.5");
        assertThat(load("batch:\n  image: 8\n").transforms().set()).isEmpty();
        assertThatThrownBy(() -> load("transforms:\n  set: [image.flipProbability]\n"))
                .hasMessageContaining("'image.flipProbability' is not KEY=VALUE");
    }

    @Test
    void writtenYamlLoadsBackTheSame() throws IOException {
        PipelineConfig c = PipelineConfig.defaults().withBootstrap("h:1")
                .withModel(new PipelineConfig.Model("small", List.of("model.dim=64")))
                .withTransformOverrides(List.of("image.flipProbability=0"));
        assertThat(load(c.toYaml())).isEqualTo(c);
    }

    @Test
    void aFileOfCommentsOnlyIsTheDefaults() throws IOException {
        assertThat(load("# nothing set\n")).isEqualTo(PipelineConfig.defaults());
    }

    @Test
    void unknownKeysAreAnErrorNamingTheKey() {
        assertThatThrownBy(() -> load("kafka:\n  prot: 9093\n")).hasMessageContaining("prot");
    }

    @Test
    void shippedFileShowsEveryDefaultAndSetsNothing() throws IOException {
        assertThat(PipelineConfig.load(SHIPPED)).isEqualTo(PipelineConfig.defaults());
        // its commented-out "# key: value" lines are the records' defaults, every key of them
        String shown = ShippedYaml.uncommented(SHIPPED);
        assertThat(load(shown)).isEqualTo(PipelineConfig.defaults());
        Set<String> free = Set.of("kafka.clientProperties");
        assertThat(ShippedYaml.keyPaths(shown, free)).isEqualTo(ShippedYaml.keyPaths(PipelineConfig.defaults().toYaml(), free));
    }
}
