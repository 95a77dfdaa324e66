package dev.d2v.pipelines.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.pipelines.bench.Soak;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `d2v bench soak`: see {@link Soak}. */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"The whole pipeline for a while under faults: continuous image ingest, the Flink job, the trainer",
                "and `evaluate --follow`, with the broker stopped for 20 s or the trainer killed with -9 at every fault",
                "interval. Prints the samples ingested, preprocessed, trained exactly once and dead-lettered, the faults",
                "survived, and each process's memory, threads and open files at the start and the end (one JSON",
                "object per figure). Runs on its own broker and folders under --dir (deleted first)."})
public final class BenchSoakCommand implements Callable<Integer> {

    @Option(names = "--minutes", paramLabel = "M", defaultValue = "30", description = "How long (default: ${DEFAULT-VALUE})")
    double minutes;

    @Option(names = "--rate", paramLabel = "R", defaultValue = "4", description = "Images ingested per second (default: ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--fault-every", paramLabel = "M", defaultValue = "4", description = "Minutes between faults (default: ${DEFAULT-VALUE})")
    double faultEvery;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Images and the choice of faults (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dir", paramLabel = "DIR", description = "Working folder, deleted first (default: .d2v/soak)")
    Path dir = Path.of(".d2v", "soak");

    @Override
    public Integer call() throws Exception {
        Path probe = ProbeImages.halves(dir.resolveSibling("soak-probe"));
        Soak.Result r = new Soak(new Soak.Settings(dir.toAbsolutePath(), minutes, rate, faultEvery, seed, probe),
                System.err).run();
        ObjectMapper json = new ObjectMapper();
        for (Map<String, Object> f : Soak.figures(r)) {
            System.out.println(json.writeValueAsString(f));
        }
        System.err.printf("soak: %.1f min, %d broker restarts and %d trainer kills survived; %d ingested (%d junk),"
                        + " %d preprocessed, %d trained (%d twice, %d not trained), %d dead letters%n", r.minutes(),
                r.brokerRestarts(), r.trainerKills(), r.ingested(), r.junk(), r.preprocessed(), r.trained(),
                r.trainedTwice(), r.notTrained(), r.deadLetters());
        boolean ok = r.trainedTwice() == 0 && r.notTrained() == 0 && r.deadLetters() == r.junk()
                && r.preprocessed() == r.ingested() - r.junk();
        return ok ? 0 : 1;
    }
}
