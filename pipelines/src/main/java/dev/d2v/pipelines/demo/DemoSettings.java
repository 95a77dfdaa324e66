package dev.d2v.pipelines.demo;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The `./d2v demo` settings: config/demo.yaml, on top of the pipeline configuration (config/d2v.yaml, {@link PipelineConfig}).
 * The defaults are here, once, each with its reason; the shipped file shows them commented out. {@code batch} and
 * {@code model} are the demo's values for the configuration's sections of the same names (same keys), sized for the
 * time budget on a CPU; the configuration's own values apply to every other command.
 */
public record DemoSettings(
        // broker storage, run and evaluation folders live here; a second run resumes from them
        String dir,
        // the demo broker's port; 0 = any free port (no clash with `./d2v kafka start` on 9092)
        Integer port,
        // trained and evaluated modalities
        List<String> modalities,
        // per modality: a dataset name (ingest/DATASETS.md) or a labeled folder
        Map<String, String> datasets,
        // train-split records ingested per modality; the trainer sees each minibatch once
        Map<String, Integer> records,
        // minibatch size per modality: small batches give more, faster steps on a CPU
        Map<String, Integer> batch,
        // training budget in minutes (the trainer also stops once the batch topics stay empty idleStopSeconds)
        Double trainMinutes,
        // the model: a preset and dotted overrides, as in the configuration's model section (and --preset, --set)
        PipelineConfig.Model model,
        // checkpoints (and evaluations of the following evaluator) every this many steps
        Integer checkpointEvery,
        // LR and EMA schedule length in steps: about the number of batches the records make
        Long scheduleSteps,
        // PyTorch intra-op threads; 0 = one per core
        Integer threads,
        // the trainer stops once the batch topics stayed empty this long: the records are a fixed set
        Long idleStopSeconds,
        // probe subsets per task (train / test records), for a bounded evaluation time
        Integer probeTrainLimit,
        Integer probeTestLimit,
        // fine-tuning protocol: off by default, it does not fit the 15-minute budget on 2 cores
        Boolean finetune,
        // the evaluator follows the trainer's checkpoints while it trains (a child process); false = evaluate the
        // final checkpoint after training
        Boolean evaluateWhileTraining,
        // the following evaluator's share of the cores (./d2v evaluate --cpu-share) and its nice level (--nice)
        Double evaluatorCpuShare,
        Integer evaluatorNice,
        // how long the demo waits, after training, for the evaluator to finish the final checkpoint before it
        // evaluates that checkpoint itself
        Double evaluatorWaitMinutes) {

    public DemoSettings {
        dir = dir == null ? ".d2v/demo" : dir;
        modalities = modalities == null ? List.of("image", "audio", "text") : List.copyOf(modalities);
        // audio: spoken-digit-phrases, not spoken-digits, which a random encoder's linear probe already solves (98%)
        datasets = datasets == null ? Map.of("image", "mnist", "audio", "spoken-digit-phrases", "text", "wordnet") : Map.copyOf(datasets);
        records = records == null ? Map.of("image", 12288, "audio", 3072, "text", 9216) : Map.copyOf(records);
        batch = batch == null ? Map.of("image", 64, "audio", 16, "text", 32) : Map.copyOf(batch);
        // the 192-wide cpu preset: about 2 steps/s on 2 cores, so that scheduleSteps fits in trainMinutes
        model = model == null ? new PipelineConfig.Model("cpu", List.of()) : model;
        port = port == null ? 0 : port;
        trainMinutes = trainMinutes == null ? 6.0 : trainMinutes;
        checkpointEvery = checkpointEvery == null ? 100 : checkpointEvery;
        scheduleSteps = scheduleSteps == null ? 550L : scheduleSteps;
        threads = threads == null ? 0 : threads;
        idleStopSeconds = idleStopSeconds == null ? 20L : idleStopSeconds;
        // 1000 test records per task: a 75% accuracy is known to +-2.7 points (the summary prints each interval)
        probeTrainLimit = probeTrainLimit == null ? 2000 : probeTrainLimit;
        probeTestLimit = probeTestLimit == null ? 1000 : probeTestLimit;
        finetune = finetune != null && finetune;
        evaluateWhileTraining = evaluateWhileTraining == null || evaluateWhileTraining;
        evaluatorCpuShare = evaluatorCpuShare == null ? 0.5 : evaluatorCpuShare;
        evaluatorNice = evaluatorNice == null ? 10 : evaluatorNice;
        evaluatorWaitMinutes = evaluatorWaitMinutes == null ? 10.0 : evaluatorWaitMinutes;
        if (!(evaluatorCpuShare > 0 && evaluatorCpuShare <= 1)) {
            throw new IllegalArgumentException("evaluatorCpuShare must be in (0, 1], got " + evaluatorCpuShare);
        }
        if (evaluatorNice < 0 || evaluatorNice > 19) {
            throw new IllegalArgumentException("evaluatorNice must be 0..19, got " + evaluatorNice);
        }
        if (!(evaluatorWaitMinutes > 0)) {
            throw new IllegalArgumentException("evaluatorWaitMinutes must be > 0, got " + evaluatorWaitMinutes);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        if (modalities.isEmpty()) {
            throw new IllegalArgumentException("modalities names no modality");
        }
        for (String m : modalities) {
            Modality.parse(m);
            if (!datasets.containsKey(m)) {
                throw new IllegalArgumentException("datasets has no entry for modality " + m);
            }
        }
        if (trainMinutes <= 0) {
            throw new IllegalArgumentException("trainMinutes must be > 0, got " + trainMinutes);
        }
    }

    /** The defaults: what config/demo.yaml shows commented out. */
    public static DemoSettings defaults() {
        return new DemoSettings(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null);
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Loads a demo YAML file; keys not given keep the defaults, unknown keys are an error naming the key. */
    public static DemoSettings load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("demo configuration not found: " + file.toAbsolutePath()
                    + " (pass --config-demo FILE; the shipped one is config/demo.yaml)");
        }
        try {
            // streamed, not through a tree: model.set keeps each value's text as written
            JsonParser parser = YAML.createParser(file.toFile());
            return parser.nextToken() == null ? defaults()   // a file of comments only: the defaults
                    : YAML.readValue(parser, DemoSettings.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid demo configuration " + file + ": " + e.getMessage(), e);
        }
    }

    public DemoSettings withTrainMinutes(Double minutes) {
        return minutes == null ? this : new DemoSettings(dir, port, modalities, datasets, records, batch, minutes, model,
                checkpointEvery, scheduleSteps, threads, idleStopSeconds, probeTrainLimit, probeTestLimit, finetune,
                evaluateWhileTraining, evaluatorCpuShare, evaluatorNice, evaluatorWaitMinutes);
    }

    /** The same settings, the evaluator following the trainer or not. */
    public DemoSettings withEvaluateWhileTraining(boolean follow) {
        return new DemoSettings(dir, port, modalities, datasets, records, batch, trainMinutes, model, checkpointEvery,
                scheduleSteps, threads, idleStopSeconds, probeTrainLimit, probeTestLimit, finetune, follow,
                evaluatorCpuShare, evaluatorNice, evaluatorWaitMinutes);
    }

    public List<Modality> modalityList() {
        return modalities.stream().map(Modality::parse).toList();
    }

    /** Records to ingest for m (0 when not configured). */
    public int recordsOf(Modality m) {
        return records.getOrDefault(m.id(), 0);
    }

    /** Batch sizes per modality (the production default where not configured). */
    public Map<Modality, Integer> batchSizes(Map<Modality, Integer> fallback) {
        Map<Modality, Integer> out = new EnumMap<>(fallback);
        batch.forEach((k, v) -> out.put(Modality.parse(k), v));
        return out;
    }
}
