package dev.d2v.pipelines.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.pipelines.train.ModelFit;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.MetricsLog;
import dev.d2v.train.run.PretrainLoop;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v pretrain`: data2vec 2.0 on one modality from local data, no Kafka (the offline path of the trainer). */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = {"Pretrains a data2vec 2.0 encoder on one modality from a dataset or folder, offline.",
                "Writes checkpoints, metrics.jsonl and encoder/encoder.safetensors under --out; a second run with the",
                "same --out resumes from the newest valid checkpoint. Ctrl-C stops after the current step and checkpoints."})
public final class PretrainCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--modality", required = true, paramLabel = "M", description = "image, audio or text")
    String modality;

    @Option(names = "--data", paramLabel = "NAME|PATH",
            description = "A dataset (fashion-mnist, mnist, spoken-digits, wordnet, austen, ...) or a folder / JSONL file "
                    + "(default: mnist, spoken-digits, wordnet by modality)")
    String data;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--steps", paramLabel = "N", description = "Train until step N in total (default: the preset's schedule length)")
    Long steps;

    @Option(names = "--schedule-steps", paramLabel = "N",
            description = "Length of the LR / tau schedules (default: --steps on a new run, the checkpoint's on a resumed one)")
    Long scheduleSteps;

    @Option(names = "--minutes", paramLabel = "M", description = "Stop after M minutes of this run (checkpointed; rerun to continue)")
    Double minutes;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: .d2v/runs/pretrain-<modality>)")
    Path out;

    @Option(names = "--batch-size", paramLabel = "B", description = "Minibatch size (default: batch.<modality> of the config)")
    Integer batchSize;

    @Mixin
    dev.d2v.pipelines.train.DeviceOptions devices;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation, masks, data order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "N", description = "Steps between checkpoints (default: ${DEFAULT-VALUE})")
    long every;

    @Option(names = "--keep", defaultValue = "3", paramLabel = "K", description = "Keep the last K checkpoints (default: ${DEFAULT-VALUE})")
    int keep;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N training records")
    Integer limit;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        Modality m = Modality.parse(modality);
        D2vConfig c = cfg.load();
        Data2VecConfig preset = modelOptions.config();   // a bad --set fails before any data is read
        Device dev = devices.open();
        DataContext ctx = cache.context(c);
        String dataName = data != null ? data : defaultData(m);
        Path run = (out != null ? out : Path.of(".d2v", "runs", "pretrain-" + m.id())).toAbsolutePath();
        Files.createDirectories(run);

        LocalSource all = LocalSource.open(dataName, m, ctx);
        LocalSource train = all.hasSplit("train") ? all.split("train") : all;
        if (limit != null) {
            train = train.limit(limit);
        }
        Transforms transforms = Transforms.defaults();
        Vocabulary vocab = m == Modality.TEXT ? LocalBatches.vocabulary(train, transforms.text(), run.resolve("vocabulary.txt")) : null;
        int b = batchSize != null ? batchSize : c.batch().of(m);
        LocalBatches batches = new LocalBatches(train, transforms, vocab, LocalBatches.Options.training(b, seed));

        long target = steps != null ? steps : preset.optim().totalSteps();
        Data2VecConfig model = ModelFit.fit(preset, List.of(m), transforms, vocab)
                .forSteps(scheduleSteps != null ? scheduleSteps : target);
        Path checkpoints = run.resolve("checkpoints");
        model = keepSchedule(model, checkpoints);
        ObjectNode runInfo = runInfo(m, dataName, transforms, vocab, run, b);

        System.out.printf("pretrain %s on %s (%d records), preset %s, batch %d, %s, until step %d%s%n", m.id(), dataName,
                train.size(), modelOptions.describe(), b, dev, target, minutes != null ? " or " + minutes + " min" : "");
        try (Trainer trainer = new Trainer(model, dev, seed);
             MetricsLog metrics = new MetricsLog(run.resolve("metrics.jsonl"))) {
            CheckpointManifest.DataPosition resumeAt;
            try (ai.djl.ndarray.NDManager scratch = ai.djl.ndarray.NDManager.newBaseManager(dev)) {
                resumeAt = TrainerCheckpoints.resumeNewest(trainer, checkpoints, scratch, System.out::println)
                        .orElse(CheckpointManifest.DataPosition.none());
            }
            LocalBatches.BatchIterator it = batches.iterator(position(resumeAt), Long.MAX_VALUE);
            PretrainLoop.Source source = new PretrainLoop.Source() {
                @Override
                public Minibatch next() {
                    return it.next();
                }

                @Override
                public CheckpointManifest.DataPosition position() {
                    LocalBatches.Position p = it.position();
                    return new CheckpointManifest.DataPosition(Map.of(),
                            Map.of("epoch", Long.toString(p.epoch()), "next_item", Integer.toString(p.nextItem())));
                }
            };
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stop.set(true);
                try {
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "pretrain-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            PretrainLoop.Outcome o;
            try (Progress progress = new Progress("pretrain " + m.id(), target)) {
                progress.set(trainer.step(), "");
                double[] emaLoss = {Double.NaN};
                List<java.util.function.Consumer<StepResult>> listeners = List.of(metrics::write, r -> {
                    emaLoss[0] = Double.isNaN(emaLoss[0]) ? r.loss() : 0.9 * emaLoss[0] + 0.1 * r.loss();
                    progress.set(r.step() + 1, String.format("loss %.4f lr %.2e tau %.5f %.1f samples/s",
                            emaLoss[0], r.lr(), r.tau(), r.samples() / (r.nanos() / 1e9)));
                });
                o = PretrainLoop.run(trainer, source, new PretrainLoop.Plan(target,
                                minutes == null ? null : Duration.ofMillis((long) (minutes * 60_000)), every,
                                new RetentionPolicy(keep, 0)),
                        checkpoints, runInfo, listeners, stop::get, msg -> System.out.println("\n" + msg));
            } finally {
                done.countDown();
            }
            if (o.lastCheckpoint() != null) {
                Path enc = TrainerCheckpoints.exportEncoder(trainer, run.resolve("encoder"),
                        o.lastCheckpoint().folder().getFileName().toString());
                System.out.printf("%s after %d steps (step %d); encoder: %s%n", o.reason(), o.stepsThisRun(), trainer.step(), enc);
            } else {
                System.out.printf("%s; nothing new to save (step %d)%n", o.reason(), trainer.step());
            }
            if (batches.stats().skipped() > 0) {
                System.out.println("skipped records: " + batches.stats());
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and waits for done
            }
        }
        return 0;
    }

    /** A resumed run keeps the schedules it started with, unless --schedule-steps says otherwise. */
    private Data2VecConfig keepSchedule(Data2VecConfig model, Path checkpoints) throws java.io.IOException {
        if (scheduleSteps != null) {
            return model;
        }
        java.util.Optional<dev.d2v.train.checkpoint.CheckpointStore.Verified> newest =
                dev.d2v.train.checkpoint.CheckpointStore.newestValid(checkpoints).checkpoint();
        if (newest.isEmpty()) {
            return model;
        }
        Data2VecConfig saved = TrainerCheckpoints.modelConfig(newest.get().manifest());
        return model.withOptim(saved.optim()).withEma(saved.ema());
    }

    static String defaultData(Modality m) {
        return switch (m) {
            case IMAGE -> "mnist";
            case AUDIO -> "spoken-digits";
            case TEXT -> "wordnet";
        };
    }

    private static LocalBatches.Position position(CheckpointManifest.DataPosition p) {
        String epoch = p.extra().get("epoch");
        String next = p.extra().get("next_item");
        return epoch == null ? LocalBatches.Position.START : new LocalBatches.Position(Long.parseLong(epoch), Integer.parseInt(next));
    }

    private static ObjectNode runInfo(Modality m, String data, Transforms t, Vocabulary vocab, Path run, int batch) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("mode", "pretrain");
        o.put("modality", m.id());
        o.put("data", data);
        o.put("batch_size", batch);
        o.set("transforms", json.valueToTree(t));
        if (vocab != null) {
            o.put("vocabulary", run.resolve("vocabulary.txt").toString());
            o.put("vocabulary_hash", Long.toHexString(vocab.contentHash()));
        }
        return o;
    }
}
