package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.pipelines.bench.TrainStreamBench;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.Devices;
import dev.d2v.train.run.ModelFit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `d2v bench train-stream`: see {@link TrainStreamBench}. */
@Command(name = "train-stream", mixinStandardHelpOptions = true,
        description = {"The continuous trainer fed from memory vs from the batch topic (same image minibatches, real",
                "local broker): stream_overhead_ratio, data_wait_fraction and both samples/s; then the data-wait",
                "fraction with the image preprocessing job (Flink MiniCluster) running beside the trainer.",
                "Prints one JSON object per line: name, value, unit, modality, preset, batch_size, steps, ..."})
public final class BenchTrainStreamCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "cpu", description = "Model preset, image encoder fitted to the default transforms (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--batches", defaultValue = "40", paramLabel = "N", description = "Minibatches per run (default: ${DEFAULT-VALUE})")
    int batches;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "B", description = "Samples per minibatch (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N", description = "Steps left out of the rates (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "N", description = "Memory and Kafka runs alternate N times, best of each (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads (default: one per core)")
    Integer threads;

    @Option(names = "--raw-rate", defaultValue = "1.5", paramLabel = "X",
            description = {"The run with the image preprocessing job beside the trainer: raw images offered at X times the",
                    "memory-fed training rate; 0 skips it (default: ${DEFAULT-VALUE})"})
    double rawRate;

    @Option(names = "--preprocess-checkpoint-ms", defaultValue = "2000", paramLabel = "MS",
            description = "That job's checkpoint interval: its sink makes batches visible this often (default: ${DEFAULT-VALUE})")
    long preprocessCheckpointMs;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "Use this broker (default: start a local one in a temporary folder)")
    String bootstrap;

    @Override
    public Integer call() throws Exception {
        Devices.configureThreads(threads);
        Data2VecConfig model = ModelFit.fit(Data2VecConfig.preset(preset), List.of(Modality.IMAGE), Transforms.defaults(), null);
        Path work = Files.createTempDirectory("d2v-bench-train-stream-");
        try {
            TrainStreamBench.run(new TrainStreamBench.Settings(model, preset, batches, batchSize, warmup, rounds, bootstrap, work, 7,
                            rawRate, preprocessCheckpointMs),
                    r -> {
                        System.out.println(r.json());
                        System.out.flush();
                    });
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (Exception ignored) {
                // a temporary folder
            }
        }
        return 0;
    }
}
