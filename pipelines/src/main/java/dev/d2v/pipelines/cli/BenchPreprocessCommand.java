package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.pipelines.bench.PreprocessBench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.util.concurrent.Callable;
import java.util.Comparator;

/** `d2v bench preprocess`: see {@link PreprocessBench}. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Preprocessing cost per core: each transform alone and through the Flink job (local MiniCluster,"
                + " real broker), the Flink overhead ratio, the audio real-time factor and text tokens/s.",
                "Prints one JSON object per line: name, value, unit, modality, stage, records, ..."})
public final class BenchPreprocessCommand implements Callable<Integer> {

    @Option(names = "--modality", paramLabel = "M", defaultValue = "all", description = "image, audio, text or all")
    String modality;

    @Option(names = "--scale", paramLabel = "X", defaultValue = "1",
            description = "Multiply the record counts (image 20000, audio 1000, text 100000) by X (default: ${DEFAULT-VALUE})")
    double scale;

    @Option(names = "--no-flink", description = "Only the transforms (no broker, no MiniCluster)")
    boolean noFlink;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Use this broker for the Flink stage (default: start a local one in a temporary folder)")
    String bootstrap;

    @Override
    public Integer call() throws Exception {
        List<Modality> ms = modality.equalsIgnoreCase("all") ? List.of(Modality.values()) : List.of(Modality.parse(modality));
        Map<Modality, Integer> records = new EnumMap<>(Modality.class);
        for (Modality m : ms) {
            records.put(m, (int) Math.max(1, Math.round(PreprocessBench.Settings.defaultRecords().get(m) * scale)));
        }
        Path work = Files.createTempDirectory("d2v-bench-preprocess-");
        try {
            PreprocessBench.run(new PreprocessBench.Settings(records, !noFlink, bootstrap, work, 7), r -> {
                System.out.println(r.json());
                System.out.flush();
            });
        } finally {
            deleteQuietly(work);
        }
        return 0;
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception ignored) {
            // a temporary folder
        }
    }
}
