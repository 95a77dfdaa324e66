package dev.d2v.pipelines.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.d2v.infra.PrivateFiles;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.config.ShippedYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoSettingsTest {
    private static final Path SHIPPED = Path.of("..", "config", "demo.yaml");

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("demo.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void shippedFileShowsEveryDefaultAndSetsNothing() throws IOException {
        assertThat(DemoSettings.load(SHIPPED)).isEqualTo(DemoSettings.defaults());
        String shown = ShippedYaml.uncommented(SHIPPED);
        assertThat(DemoSettings.load(write(shown))).isEqualTo(DemoSettings.defaults());
        Set<String> free = Set.of("datasets", "records", "batch", "model");
        String defaults = new ObjectMapper(new YAMLFactory()).writeValueAsString(DemoSettings.defaults());
        assertThat(ShippedYaml.keyPaths(shown, free)).isEqualTo(ShippedYaml.keyPaths(defaults, free));
    }

    @Test
    void theModelSectionHasTheConfigurationsKeys() throws IOException {
        DemoSettings s = DemoSettings.load(write("model: {preset: tiny, set: {model.depth: 2}}\n"));
        assertThat(s.model()).isEqualTo(new PipelineConfig.Model("tiny", List.of("model.depth=2")));
        assertThat(DemoSettings.defaults().model()).isEqualTo(new PipelineConfig.Model("cpu", List.of()));
        assertThatThrownBy(() -> DemoSettings.load(write("preset: cpu\n"))).hasMessageContaining("preset");
    }

    @Test
    void theDemosConfigurationKeepsNoCredentialAndIsReadableByItsOwnerOnly() throws IOException {
        Path secured = dir.resolve("secured.yaml");
        Files.writeString(secured, """
                kafka:
                  bootstrap: broker.example:9093
                  clientProperties:
                    security.protocol: SASL_SSL
                    sasl.jaas.config: ScramLoginModule required username="d2v" password="s3cret";
                """);
        PipelineConfig c = Demo.demoConfig(PipelineConfig.load(secured), DemoSettings.defaults(), "127.0.0.1:40001");
        assertThat(c.kafka().bootstrap()).isEqualTo("127.0.0.1:40001");
        assertThat(c.kafka().clientProperties()).as("the demo's own broker is PLAINTEXT").isEmpty();
        Path file = dir.resolve("demo").resolve("d2v.yaml");
        Files.createDirectories(file.getParent());
        PrivateFiles.writeString(file, c.toYaml());
        assertThat(Files.readString(file)).doesNotContain("s3cret").contains("127.0.0.1:40001");
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                    .isEqualTo("rw-------");
        }
    }
}
