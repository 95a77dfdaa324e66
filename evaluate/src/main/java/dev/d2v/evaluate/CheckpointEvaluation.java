package dev.d2v.evaluate;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.evaluate.cpu.CpuShare;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.features.FeatureKey;
import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.evaluate.features.RawFeatures;
import dev.d2v.evaluate.io.AtomicFiles;
import dev.d2v.evaluate.finetune.FineTune;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.probe.LinearModel;
import dev.d2v.evaluate.probe.LinearProbe;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.RawItem;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.preprocess.local.ProbeTask;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.model.Readout;
import dev.d2v.train.run.TrainerCheckpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Evaluates one checkpoint: per probe task of a trained modality, frozen-encoder features (cached per checkpoint,
 * task and split), a linear probe and k-NN, fine-tuning of a copy of the encoder with a classification head
 * ({@link FineTune}), and the same on a randomly initialised encoder of the same shape (the baseline, features cached
 * under the id "random-init-<seed>", fine-tune results kept in memory for the next checkpoint of the same shape),
 * and the frozen-feature probes on the raw inputs of the same records, no encoder ({@link RawFeatures}: the second
 * baseline, features cached under {@link RawFeatures#cacheId}, probe results kept in memory: the same for every
 * checkpoint whose transforms are the same). The encoder and the probe inputs' transforms come from the checkpoint
 * alone. All of it keeps to the options' {@link CpuShare}: the probes' pools are capped at its threads, and each
 * chunk of work ends with its pause.
 */
public final class CheckpointEvaluation {

    /**
     * @param tasks     probe tasks per run (dataset names or folders); empty = the defaults of each trained modality.
     *                   A task is probed with the encoder of its own modality: a dataset's, or the most common one
     *                   among a folder's files; a task of a modality the checkpoint did not train is left out
     * @param trainLimit at most this many training records per task, a seeded sample across the labels (0 = all)
     * @param testLimit  at most this many test records per task, sampled the same way (0 = all)
     * @param finetune   the fine-tuning protocol's settings; null = no fine-tuning (frozen-feature protocols only)
     * @param cpu        the evaluator's share of the machine: the probes' pools are capped at its thread count here,
     *                   and every chunk of work (feature batch, L-BFGS iteration, k-NN block, fine-tuning update)
     *                   ends with its pause; PyTorch's threads are the caller's to set before the engine loads
     */
    public record Options(List<String> tasks, int trainLimit, int testLimit, int batchSize, long baselineSeed,
                          Device device, FrozenFeatureProbes.Config probes, FineTune.Config finetune, CpuShare cpu) {

        public Options {
            probes = probes.withThreads(cpu.threads());
        }

        /** The whole machine. */
        public Options(List<String> tasks, int trainLimit, int testLimit, int batchSize, long baselineSeed,
                       Device device, FrozenFeatureProbes.Config probes, FineTune.Config finetune) {
            this(tasks, trainLimit, testLimit, batchSize, baselineSeed, device, probes, finetune, CpuShare.whole());
        }

        /** Without fine-tuning settings: the default fine-tuning budget, the whole machine. */
        public Options(List<String> tasks, int trainLimit, int testLimit, int batchSize, long baselineSeed,
                       Device device, FrozenFeatureProbes.Config probes) {
            this(tasks, trainLimit, testLimit, batchSize, baselineSeed, device, probes, FineTune.Config.defaults());
        }
    }

    private final DataContext data;
    private final FeatureCache cache;
    private final Options options;
    private final Consumer<String> log;
    /** Fine-tune results of random-init encoders, by randomId / modality / task: the same for every checkpoint. */
    private final Map<String, EvalResult> baselineFinetunes = new HashMap<>();
    /** Frozen-feature probe results on raw features, by raw cache id / modality / task: the same for every checkpoint. */
    private final Map<String, List<EvalResult>> rawProbes = new HashMap<>();

    public CheckpointEvaluation(DataContext data, FeatureCache cache, Options options, Consumer<String> log) {
        this.data = data;
        this.cache = cache;
        this.options = options;
        this.log = log;
    }

    /** The default probe tasks of a modality (shipped datasets). */
    public static List<String> defaultTasks(Modality m) {
        return switch (m) {
            case IMAGE -> List.of("fashion-mnist", "mnist");
            case AUDIO -> List.of("spoken-digits", "spoken-digit-phrases");
            case TEXT -> List.of("wordnet");
        };
    }

    /**
     * One probe task as {@link #evaluate} reads it for the checkpoint in folder: its records within the options' limits,
     * through the checkpoint's transforms, in batches of the options' size (for benchmarks of the stages apart).
     */
    public ProbeTask probeTask(Path folder, String task) throws IOException {
        JsonNode run = CheckpointStore.verify(folder).manifest().config().path(TrainerCheckpoints.RUN);
        return load(LocalSource.open(task, null, data), transforms(run), vocabulary(run));
    }

    /** Every probe result of the checkpoint in folder, baseline accuracies (random init, raw features) filled in. */
    public List<EvalResult> evaluate(Path folder) throws IOException {
        CpuShare cpu = options.cpu();
        cpu.restart(); // the idle time before this checkpoint is no credit
        double slept = cpu.sleptSeconds();
        long t0 = System.nanoTime();
        CheckpointStore.Verified verified = CheckpointStore.verify(folder);
        CheckpointManifest manifest = verified.manifest();
        String id = verified.id();   // folder name and manifest hash: a rerun into the same folder is another id
        JsonNode run = manifest.config().path(TrainerCheckpoints.RUN);
        Transforms transforms = transforms(run);
        Vocabulary vocab = vocabulary(run);
        List<EvalResult> out = new ArrayList<>();
        try (Encoder encoder = Encoder.fromCheckpoint(folder, options.device());
             Encoder random = Encoder.randomInit(encoder.config(), options.baselineSeed(), options.device())) {
            String randomId = randomInitId(options.baselineSeed(), run, manifest);
            Map<String, LocalSource> sources = new HashMap<>();
            for (Modality m : encoder.config().modalities()) {
                for (String task : options.tasks().isEmpty() ? defaultTasks(m) : options.tasks()) {
                    LocalSource source = sources.get(task);
                    if (source == null) {
                        source = LocalSource.open(task, null, data);
                        sources.put(task, source);
                    }
                    if (source.modality() != m) {
                        continue; // another modality's task: probed with that modality's encoder, if it was trained
                    }
                    ProbeTask p = load(source, transforms, vocab);
                    log.accept(String.format("%s: %s %s (%d train, %d test)", folder.getFileName(), m.id(), p.name(),
                            p.trainSamples(), p.testSamples()));
                    List<EvalResult> trained = probe(encoder, id, manifest.step(), m, p);
                    List<EvalResult> baseline = baselineProbe(random, randomId, manifest.step(), m, p);
                    List<EvalResult> raw = rawProbe(folder, manifest.step(), m, p);
                    for (int i = 0; i < trained.size(); i++) {
                        out.add(trained.get(i).withBaseline(baseline.get(i).accuracy()).withRaw(raw.get(i).accuracy()));
                    }
                    if (options.finetune() != null) {
                        EvalResult tuned = finetune(encoder, id, manifest.step(), m, p);
                        String key = randomId + "/" + m.id() + "/" + p.name() + limitsSuffix();
                        EvalResult base = baselineFinetunes.get(key);
                        if (base == null) {
                            base = finetune(random, randomId, manifest.step(), m, p);
                            baselineFinetunes.put(key, base);
                        }
                        log.accept(String.format("%s: %s %s fine-tuned %.1f%% (random init %.1f%%), %.0f steps, %.1f s",
                                folder.getFileName(), m.id(), p.name(), 100 * tuned.accuracy(), 100 * base.accuracy(),
                                tuned.extras().get("steps"), tuned.extras().get("fit_s")));
                        out.add(tuned.withBaseline(base.accuracy()));
                    }
                }
            }
            if (out.isEmpty() && !options.tasks().isEmpty()) {
                throw new IOException("none of the probe tasks " + options.tasks() + " holds records of a modality "
                        + "this checkpoint trained (" + encoder.config().modalities().stream().map(Modality::id)
                        .collect(Collectors.joining(", ")) + ")");
            }
        }
        if (cpu.sleptSeconds() - slept >= 0.05) { // not the few ms that the JIT's threads cost beside one thread
            log.accept(String.format("%s: paused %.1f s of %.1f s to stay within %s", folder.getFileName(),
                    cpu.sleptSeconds() - slept, (System.nanoTime() - t0) / 1e9, cpu.describe()));
        }
        return out.stream().map(r -> withCpuShare(r, cpu)).toList();
    }

    /** The share the figures were measured under: fit_s includes the duty cycle's pauses. */
    private static EvalResult withCpuShare(EvalResult r, CpuShare cpu) {
        Map<String, Double> extras = new LinkedHashMap<>(r.extras());
        extras.put("cpu_share", cpu.share());
        extras.put("cpu_threads", (double) cpu.threads());
        return new EvalResult(r.checkpoint(), r.step(), r.modality(), r.task(), r.protocol(), r.accuracy(),
                r.baselineAccuracy(), r.rawAccuracy(), extras);
    }

    private List<EvalResult> probe(Encoder e, String id, long step, Modality m, ProbeTask p) throws IOException {
        Readout readout = options.probes().readout();
        String task = p.name() + limitsSuffix() + readoutSuffix(readout);
        FeatureSet train = cache.get(new FeatureKey(id, m, task, "train"), () -> features(e, m, p.train(), readout));
        FeatureSet test = cache.get(new FeatureKey(id, m, task, "test"), () -> features(e, m, p.test(), readout));
        int knnColumns = readout == Readout.LAST ? 0 : e.dim();   // the last block's part: FrozenFeatureProbes.run
        return FrozenFeatureProbes.run(id, step, m, p.name(), train, test, p.labelNames().size(), options.probes(),
                knnColumns, options.cpu().pacer());
    }

    /**
     * {@link #probe} for a baseline encoder: its results depend only on the features and the probe settings, so they are
     * stored beside the features ({@link #storedProbes}) and read back for every later checkpoint of the same shape.
     */
    private List<EvalResult> baselineProbe(Encoder e, String id, long step, Modality m, ProbeTask p) throws IOException {
        return storedProbes(id, m, p.name() + limitsSuffix() + readoutSuffix(options.probes().readout()),
                () -> probe(e, id, step, m, p));
    }

    /** Computes probe results on a cache miss. */
    @FunctionalInterface
    private interface ProbeRun {
        List<EvalResult> run() throws IOException;
    }

    /**
     * Frozen-feature probe results of a baseline (random init, raw features) kept in the feature cache under
     * {@code <id>/<modality>/<task>/probes-<settings hash>.json}: the probes are deterministic given the features
     * and their settings (thread count aside), so a later process reuses them as it reuses the features. A file
     * that does not parse is recomputed.
     */
    private List<EvalResult> storedProbes(String id, Modality m, String task, ProbeRun compute) throws IOException {
        Path file = cache.path(new FeatureKey(id, m, task, "train")).resolveSibling(
                "probes-" + probeSettingsHash(options.probes()) + ".json");
        if (Files.isRegularFile(file)) {
            try {
                List<EvalResult> stored = new ArrayList<>();
                for (JsonNode n : new ObjectMapper().readTree(file.toFile())) {
                    stored.add(EvalResult.fromJson(n));
                }
                if (stored.size() == 2) {
                    return stored;
                }
            } catch (IOException | RuntimeException e) {
                log.accept("stored probe results " + file + " unreadable (" + e.getMessage() + "): recomputing");
            }
        }
        List<EvalResult> computed = compute.run();
        ArrayNode array = new ObjectMapper().createArrayNode();
        computed.forEach(r -> array.add(r.toJson()));
        Files.createDirectories(file.getParent());
        AtomicFiles.write(file, array.toString());
        return computed;
    }

    /** The probe settings that decide their results (not the thread counts): 16 hex digits. */
    static String probeSettingsHash(FrozenFeatureProbes.Config c) {
        // the readout is in the path; with the layers readout the k-NN reads the last block's columns only
        String settings = c.linear().withThreads(1) + "/" + c.knn().withThreads(1)
                + (c.readout() == Readout.LAST ? "" : "/knn-on-last-block");
        return sha256(settings.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /**
     * The random-init baseline's id: "random-init-<seed>-<hash>" over what decides its features, the model recipe
     * (its init draws parameters in declaration order, so every modality's shape counts) and the probe inputs'
     * transforms and vocabulary, not the rest of the run's settings: every run with the same recipe and transforms
     * shares one set of random-init features and probe results.
     */
    static String randomInitId(long seed, JsonNode run, CheckpointManifest manifest) {
        ObjectMapper canonical = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
        ObjectNode shape = canonical.createObjectNode();
        shape.set("model", manifest.config().get(TrainerCheckpoints.MODEL)); // null (absent) becomes JSON null
        shape.set("transforms", run.get("transforms"));
        shape.set("vocabulary", run.get("vocabulary"));
        try {
            byte[] bytes = canonical.writeValueAsBytes(canonical.treeToValue(shape, Object.class));
            return "random-init-" + seed + "-" + sha256(bytes).substring(0, 16);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree always converts to plain values", e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /**
     * The linear probe and k-NN on p's raw input features ({@link RawFeatures}), in the order of {@link #probe}'s
     * results. Features go to the cache under the batches' preprocessing config hash, the results stay in memory:
     * a later checkpoint with the same transforms reuses both.
     */
    private List<EvalResult> rawProbe(Path folder, long step, Modality m, ProbeTask p) throws IOException {
        String rawId = RawFeatures.cacheId(p.train().get(0).preprocessConfigHash());
        String task = p.name() + limitsSuffix();
        String key = rawId + "/" + m.id() + "/" + task;
        List<EvalResult> known = rawProbes.get(key);
        if (known == null) {
            FeatureSet[] features = new FeatureSet[2];
            known = storedProbes(rawId, m, task, () -> {
                features[0] = cache.get(new FeatureKey(rawId, m, task, "train"), () -> RawFeatures.of(p.train()));
                features[1] = cache.get(new FeatureKey(rawId, m, task, "test"), () -> RawFeatures.of(p.test()));
                return FrozenFeatureProbes.run(rawId, step, m, p.name(), features[0], features[1],
                        p.labelNames().size(), options.probes(), 0, options.cpu().pacer());
            });
            rawProbes.put(key, known);
            log.accept(String.format("%s: %s %s raw features (%.0f dims): linear %.1f%%, k-NN %.1f%%", folder.getFileName(),
                    m.id(), p.name(), known.get(0).extras().get("dims"), 100 * known.get(0).accuracy(),
                    100 * known.get(1).accuracy()));
        }
        return known;
    }

    /**
     * The fine-tuning protocol on one task: a copy of e's encoder for m plus a head that starts from a linear probe on
     * its initial inputs (LP-FT), trained on p.train().
     */
    private EvalResult finetune(Encoder e, String id, long step, Modality m, ProbeTask p) throws IOException {
        FineTune.Config c = options.finetune();
        // the frozen probes' cached train features are the fine-tune's starting features: no second pass
        FeatureSet pooled = cache.get(new FeatureKey(id, m, p.name() + limitsSuffix(), "train"),
                () -> features(e, m, p.train(), Readout.LAST));
        Runnable pace = options.cpu().pacer();
        FineTune.Result r = FineTune.run(e.config(), e.parameters(), m, p.train(), p.test(), p.labelNames().size(), c,
                linearProbeHead(options.probes().linear(), pace), pooled.features(), pace);
        Map<String, Double> extras = new LinkedHashMap<>();
        extras.put("train_rows", (double) r.trainSamples());
        extras.put("test_rows", (double) r.testSamples());
        extras.put("steps", (double) r.steps());
        extras.put("epochs", r.epochs());
        extras.put("batch_size", (double) c.batchSize());
        extras.put("lr", c.lr());
        extras.put("encoder_lr_scale", c.encoderLrScale());
        extras.put("layer_decay", c.layerDecay());
        extras.put("seed", (double) c.seed());
        extras.put("standardize", c.standardize() ? 1.0 : 0.0);
        extras.put("head_from_probe", 1.0);
        extras.put("train_accuracy", r.trainAccuracy());
        extras.put("first_train_loss", r.trainLoss().isEmpty() ? Double.NaN : r.trainLoss().get(0));
        extras.put("final_train_loss", r.finalLoss(0.1));
        extras.put("fit_s", r.seconds());
        return new EvalResult(id, step, m, p.name(), Protocol.FINETUNE, r.testAccuracy(), Double.NaN, extras);
    }

    /**
     * LP-FT's head: a {@link LinearProbe} on the head's initial inputs. The probe standardises its inputs, so its
     * model is affine in the raw inputs; its weight and bias are read off by evaluating it at 0 and at each unit
     * vector (D + 1 evaluations, exact up to rounding).
     */
    public static FineTune.HeadFit linearProbeHead(LinearProbe.Config config) {
        return linearProbeHead(config, () -> { });
    }

    /** The same, pacing the probe's L-BFGS iterations (the evaluator's CPU share). */
    public static FineTune.HeadFit linearProbeHead(LinearProbe.Config config, Runnable pace) {
        return (x, y, classes) -> {
            LinearModel model = LinearProbe.fit(x, y, classes, config, pace);
            int d = x[0].length;
            double[] b = model.logits(new float[d]);
            float[][] w = new float[classes][d];
            for (int j = 0; j < d; j++) {
                float[] unit = new float[d];
                unit[j] = 1f;
                double[] z = model.logits(unit);
                for (int c = 0; c < classes; c++) {
                    w[c][j] = (float) (z[c] - b[c]);
                }
            }
            float[] bias = new float[classes];
            for (int c = 0; c < classes; c++) {
                bias[c] = (float) b[c];
            }
            return new FineTune.HeadWeights(w, bias);
        };
    }

    private String limitsSuffix() {
        return options.trainLimit() == 0 && options.testLimit() == 0 ? ""
                : "-sample" + options.trainLimit() + "-" + options.testLimit();
    }

    /**
     * The cache's name for a readout's features: none for {@link Readout#LAST} (the features the fine-tuning head starts
     * from, and all that earlier versions cached), "-layers" for the others.
     */
    private static String readoutSuffix(Readout r) {
        return r == Readout.LAST ? "" : "-" + r.id();
    }

    private FeatureSet features(Encoder e, Modality m, List<Minibatch> batches, Readout readout) {
        float[][] f = e.features(m, batches, readout, options.cpu().pacer());
        int[] labels = new int[f.length];
        int row = 0;
        for (Minibatch b : batches) {
            for (int i = 0; i < b.batchSize(); i++) {
                labels[row++] = b.labels() == null ? -1 : b.labels()[i];
            }
        }
        return new FeatureSet(f, labels);
    }

    /** The probe task of a source, within the options' record limits, through the checkpoint's transforms. */
    private ProbeTask load(LocalSource source, Transforms t, Vocabulary vocab) throws IOException {
        LocalSource train = source.split("train");
        LocalSource test = source.split("test");
        if (options.trainLimit() > 0) {
            train = train.sample(options.trainLimit(), 17);
        }
        if (options.testLimit() > 0) {
            test = test.sample(options.testLimit(), 18);
        }
        List<RawItem> items = new ArrayList<>(train.items());
        items.addAll(test.items());
        LocalSource limited = new LocalSource(source.name(), source.modality(), items, source.labels());
        return ProbeTask.of(limited, t, options.batchSize(), vocab);
    }

    private static Transforms transforms(JsonNode run) throws IOException {
        JsonNode t = run.get("transforms");
        return t == null ? Transforms.defaults() : new ObjectMapper().treeToValue(t, Transforms.class);
    }

    private static Vocabulary vocabulary(JsonNode run) throws IOException {
        JsonNode v = run.get("vocabulary");
        if (v == null) {
            return null;
        }
        Path file = Path.of(v.asText());
        if (!Files.isRegularFile(file)) {
            throw new IOException("the checkpoint's text vocabulary " + file + " is missing");
        }
        Vocabulary vocabulary = Vocabulary.load(file);
        JsonNode recorded = run.get("vocabulary_hash");
        if (recorded != null && Long.parseUnsignedLong(recorded.asText(), 16) != vocabulary.contentHash()) {
            // another vocabulary maps the same words to other ids: its features would be noise
            throw new IOException(String.format("the text vocabulary %s has changed since the checkpoint was trained"
                    + " (its hash is %016x, the checkpoint's %s): restore the vocabulary the trainer used", file,
                    vocabulary.contentHash(), recorded.asText()));
        }
        return vocabulary;
    }
}
