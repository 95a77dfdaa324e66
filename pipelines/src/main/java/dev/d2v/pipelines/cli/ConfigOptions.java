package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.D2vConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * --config and --bootstrap, shared by every command. Without --config the repository's config/d2v.yaml is
 * used when present (./d2v passes the repository root), else the built-in defaults (the same values).
 */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration (default: config/d2v.yaml)")
    Path config;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT[,...]",
            description = "Kafka bootstrap servers (default: kafka.bootstrap from the configuration)")
    String bootstrap;

    public D2vConfig load() {
        Path file = config;
        if (file == null) {
            String root = System.getProperty("d2v.repo.root");
            Path candidate = root == null ? Path.of("config", "d2v.yaml") : Path.of(root, "config", "d2v.yaml");
            file = Files.isRegularFile(candidate) ? candidate : null;
        }
        D2vConfig c = file == null ? D2vConfig.defaults() : D2vConfig.load(file);
        return c.withBootstrap(bootstrap);
    }
}
