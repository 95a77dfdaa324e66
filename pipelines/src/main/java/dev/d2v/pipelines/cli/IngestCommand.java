package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.ingest.Ingestor;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.Sources;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.ingest.data.Dataset;
import dev.d2v.ingest.data.Datasets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import java.util.concurrent.Callable;

/** `d2v ingest`: a dataset, a folder or a JSONL file into d2v.raw.&lt;modality&gt;. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Sends a dataset, a folder (png/jpg, wav, txt, jsonl; recursive) or a JSONL file to d2v.raw.<modality>.",
                "Idempotent producer, sample ids as keys, label and split headers from the labeled layout."})
public final class IngestCommand implements Callable<Integer> {

    static final class What {
        @Option(names = "--dataset", paramLabel = "NAME", description = "A dataset (fetched first if needed)")
        String dataset;

        @Option(names = "--dir", paramLabel = "PATH", description = "A folder, walked recursively, or one file")
        Path dir;

        @Option(names = "--jsonl", paramLabel = "FILE", description = "A JSONL file of {\"text\", \"label\"?, \"split\"?, \"id\"?}")
        Path jsonl;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Option(names = "--name", paramLabel = "NAME", description = "Sample id prefix for --dir/--jsonl (default: the folder or file name)")
    String name;

    @Option(names = "--limit", paramLabel = "N", description = "Send at most N records (default: all)")
    long limit;

    @Option(names = "--split", paramLabel = "SPLIT", description = "Only records of this split (train, test)")
    String split;

    @Option(names = "--rate", paramLabel = "R", description = "At most R records per second (default: unlimited)")
    double rate;

    @Option(names = "--again", description = "Send items the ingest journal names as sent already, as new copies"
            + " (by default a rerun sends each sample id once: after a broker outage or a crash it sends only the rest)")
    boolean again;

    @Override
    public Integer call() throws IOException {
        PipelineConfig c = cfg.load();
        Stream<RawItem> items = split == null ? items(c)
                : items(c).filter(i -> i.split().map(split::equals).orElse(false));
        Ingestor.Summary s;
        try {
            s = Ingestor.send(c, items, limit, rate, "ingest",
                    skip -> System.err.println("skipped " + skip.source() + ": " + skip.reason()), again);
        } finally {
            items.close();
        }
        System.out.printf("ingested %d records (%.1f MB) in %.1f s, %.0f records/s%n", s.sent(), s.bytes() / 1e6,
                s.seconds(), s.recordsPerSecond());
        if (s.alreadySent() > 0) {
            System.out.printf("not sent again: %d records already on their topics (the ingest journal; --again sends"
                    + " them anew)%n", s.alreadySent());
        }
        for (Map.Entry<String, Long> e : s.perTopic().entrySet()) {
            System.out.printf("  %-20s %d%n", e.getKey(), e.getValue());
        }
        if (!s.skipped().isEmpty()) {
            System.out.printf("skipped %d (unreadable or oversized; listed above)%n", s.skipped().size());
        }
        if (!s.ok()) {
            System.err.println("d2v ingest: " + s.failedSends() + " records were not acknowledged by the broker");
            return 1;
        }
        return 0;
    }

    private Stream<RawItem> items(PipelineConfig c) throws IOException {
        if (what.dataset != null) {
            Dataset d = Datasets.byName(what.dataset);
            DataContext ctx = cache.context(c);
            Datasets.fetch(d, ctx);
            return Sources.folder(d.root(ctx), d.name());
        }
        if (what.dir != null) {
            Path abs = what.dir.toAbsolutePath().normalize();
            return Sources.folder(abs, name != null ? name : String.valueOf(abs.getFileName()));
        }
        Path f = what.jsonl.toAbsolutePath().normalize();
        String base = String.valueOf(f.getFileName()).replaceFirst("\\.jsonl$", "");
        return Sources.jsonl(f, name != null ? name : base, Optional.empty());
    }
}
