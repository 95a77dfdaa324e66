package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * --config and --bootstrap, shared by every command. Without --config the repository's config/d2v.yaml is
 * used when present (./d2v passes the repository root), else the built-in defaults (what it shows commented out).
 */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration (default: config/d2v.yaml)")
    Path config;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT[,...]",
            description = "Kafka bootstrap servers (default: kafka.bootstrap from the configuration)")
    String bootstrap;

    public PipelineConfig load() {
        return load(config).withBootstrap(bootstrap);
    }

    /** The given file; null: the repository's config/d2v.yaml when present, else the built-in defaults. */
    static PipelineConfig load(Path file) {
        if (file == null) {
            Path candidate = shipped("d2v.yaml");
            file = Files.isRegularFile(candidate) ? candidate : null;
        }
        return file == null ? PipelineConfig.defaults() : PipelineConfig.load(file);
    }

    /** A file of the repository's config folder (./d2v passes the repository root; else the working directory). */
    static Path shipped(String name) {
        String root = System.getProperty("d2v.repo.root");
        return root == null ? Path.of("config", name) : Path.of(root, "config", name);
    }
}
