package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.train.config.Data2VecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class ModelOptionsTest {

    @Command(name = "probe")
    static final class Probe implements Runnable {
        @Mixin
        ConfigOptions cfg;

        @Mixin
        ModelOptions model;

        @Override
        public void run() {
        }
    }

    @TempDir
    Path dir;

    private ModelOptions parse(String... args) {
        Probe p = new Probe();
        new CommandLine(p).parseArgs(args);
        return p.model;
    }

    private Path yaml(String text) throws IOException {
        Path f = dir.resolve("d2v.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void theConfigurationNamesPresetAndOverrides() throws IOException {
        Path f = yaml("model:\n  preset: tiny\n  set: {model.dim: 48, optim.lr: 5e-4}\n");
        ModelOptions m = parse("--config", f.toString());
        assertThat(m.preset()).isEqualTo("tiny");
        assertThat(m.config()).isEqualTo(Data2VecConfig.preset("tiny").withOverrides(List.of("model.dim=48", "optim.lr=5e-4")));
        assertThat(m.describe()).isEqualTo("tiny with model.dim=48, optim.lr=5e-4");
    }

    @Test
    void theCommandLineWinsOverTheConfiguration() throws IOException {
        Path f = yaml("model:\n  preset: tiny\n  set: [model.dim=48, optim.lr=5e-4]\n");
        ModelOptions m = parse("--config", f.toString(), "--preset", "small", "--set", "model.dim=96");
        assertThat(m.preset()).isEqualTo("small");
        Data2VecConfig c = m.config();
        assertThat(c.model().dim()).isEqualTo(96);                  // --set after model.set
        assertThat(c.optim().lr()).isEqualTo(5e-4);                 // the file's other override still applies
        assertThat(m.describe()).isEqualTo("small with model.dim=48, optim.lr=5e-4, model.dim=96");
    }

    @Test
    void withoutAModelSectionThePresetIsCpu() throws IOException {
        Path f = yaml("batch:\n  image: 8\n");
        assertThat(parse("--config", f.toString()).describe()).isEqualTo("cpu");
        assertThat(parse("--config", f.toString()).config()).isEqualTo(Data2VecConfig.preset("cpu"));
    }
}
