package dev.d2v.pipelines.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import dev.d2v.evaluate.CheckpointEvaluation;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.features.FeatureSet;
import dev.d2v.evaluate.features.RawFeatures;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.probe.Knn;
import dev.d2v.evaluate.probe.LinearModel;
import dev.d2v.evaluate.probe.LinearProbe;
import dev.d2v.evaluate.probe.ProbeBackend;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.ProbeTask;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Readout;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One evaluation of a checkpoint on one probe task, stage by stage, as {@link CheckpointEvaluation} runs it: feature
 * extraction (the checkpoint's encoder, the random-init encoder of the same shape, the raw inputs), then per feature
 * set the linear probe and the k-NN, on each backend asked for (libtorch, the plain-Java reference, or both side by
 * side on the same features). Each stage prints one {@link BenchResult}: value = wall seconds, with the process CPU
 * seconds, the 1-minute load average before and after, and the accuracy where there is one; the machine's CPU model
 * and vector flags go on every line. No feature cache: every stage is measured cold.
 */
public final class EvalBench {

    /**
     * @param checkpoint a checkpoint folder; null = an untrained cpu-preset image checkpoint written under workDir
     * @param task       probe task (dataset name or folder)
     * @param trainLimit at most this many training records (0 = all), as {@code ./d2v evaluate --train-limit}
     * @param testLimit  at most this many test records (0 = all)
     * @param batchSize  feature extraction batch size
     * @param backends   probe backends, each run on the same features
     * @param workDir    where the quick checkpoint goes
     */
    public record Options(Path checkpoint, String task, int trainLimit, int testLimit, int batchSize,
                          List<ProbeBackend> backends, Path workDir) {
        public Options {
            if (backends.isEmpty()) {
                throw new IllegalArgumentException("at least one probe backend");
            }
            backends = List.copyOf(backends);
        }
    }

    private EvalBench() {
    }

    /** Runs the stages in order, each result to {@code sink} as soon as it is measured; progress to {@code log}. */
    public static void run(Options o, DataContext data, Consumer<BenchResult> sink, Consumer<String> log)
            throws IOException {
        Stopwatch total = new Stopwatch();
        Map<String, Object> machine = CpuInfo.read().params();
        Path checkpoint = o.checkpoint() != null ? o.checkpoint() : quickCheckpoint(o.workDir(), log);
        FrozenFeatureProbes.Config probes = FrozenFeatureProbes.Config.defaults();
        CheckpointEvaluation evaluation = new CheckpointEvaluation(data, new FeatureCache(o.workDir().resolve("unused")),
                new CheckpointEvaluation.Options(List.of(o.task()), o.trainLimit(), o.testLimit(), o.batchSize(), 7,
                        Device.cpu(), probes, null), log);

        Stopwatch w = new Stopwatch();
        ProbeTask task = evaluation.probeTask(checkpoint, o.task());
        sink.accept(w.result("eval_load_task_s", "", machine, Map.of("task", task.name(),
                "train_rows", task.trainSamples(), "test_rows", task.testSamples())));
        Modality m = task.modality();
        int classes = task.labelNames().size();

        List<Features> sets = new ArrayList<>();
        try (Encoder encoder = Encoder.fromCheckpoint(checkpoint, Device.cpu());
             Encoder random = Encoder.randomInit(encoder.config(), 7, Device.cpu())) {
            for (Encoder e : List.of(encoder, random)) {
                String name = e == encoder ? "checkpoint" : "random_init";
                w = new Stopwatch();
                // as the evaluation reads them: the linear probe all of the readout, the k-NN the last block's part
                Features set = new Features(name,
                        new FeatureSet(e.features(m, task.train(), probes.readout(), () -> { }), labels(task.train())),
                        new FeatureSet(e.features(m, task.test(), probes.readout(), () -> { }), labels(task.test())),
                        probes.readout() == Readout.LAST ? 0 : e.dim());
                sink.accept(w.result("eval_features_s", name, machine, Map.of("dims", set.dims(),
                        "batch_size", o.batchSize(), "rows", set.train().rows() + set.test().rows())));
                sets.add(set);
            }
        }
        w = new Stopwatch();
        Features raw = new Features("raw", RawFeatures.of(task.train()), RawFeatures.of(task.test()), 0);
        sink.accept(w.result("eval_features_s", "raw", machine, Map.of("dims", raw.dims(),
                "rows", raw.train().rows() + raw.test().rows())));
        sets.add(raw);
        log.accept(String.format("features done in %.1f s", total.wall()));

        for (Features s : sets) {
            FeatureSet knnTrain = s.train().lastColumns(s.knnColumns());
            FeatureSet knnTest = s.test().lastColumns(s.knnColumns());
            for (ProbeBackend b : o.backends()) {
                w = new Stopwatch();
                LinearModel model = LinearProbe.fit(s.train().features(), s.train().labels(), classes,
                        probes.linear().withBackend(b));
                double acc = model.accuracy(s.test().features(), s.test().labels());
                sink.accept(w.result("eval_linear_s", s.name(), machine, Map.of("backend", b.name().toLowerCase(),
                        "accuracy", acc, "l2", model.l2(), "iterations", model.iterations(), "dims", s.dims())));
                log.accept(String.format("%s linear (%s): %.2f%% in %.1f s", s.name(), b, 100 * acc, w.wall()));
                w = new Stopwatch();
                double knn = Knn.accuracy(knnTrain.features(), knnTrain.labels(), knnTest.features(), knnTest.labels(),
                        classes, probes.knn().withBackend(b));
                sink.accept(w.result("eval_knn_s", s.name(), machine, Map.of("backend", b.name().toLowerCase(),
                        "accuracy", knn, "k", probes.knn().k(), "dims", knnTrain.dims())));
                log.accept(String.format("%s k-NN (%s): %.2f%% in %.1f s", s.name(), b, 100 * knn, w.wall()));
            }
        }
        sink.accept(total.result("eval_total_s", "all", machine, Map.of("task", task.name(),
                "backends", String.join(",", o.backends().stream().map(b -> b.name().toLowerCase()).toList()))));
    }

    /** An untrained cpu-preset image checkpoint (step 0, default transforms): the shape the demo trains. */
    static Path quickCheckpoint(Path workDir, Consumer<String> log) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode run = json.createObjectNode();
        run.set("transforms", json.valueToTree(Transforms.defaults()));
        Files.createDirectories(workDir);
        try (Trainer t = new Trainer(Data2VecConfig.cpu().restrictTo(List.of(Modality.IMAGE)), Device.cpu(), 1)) {
            CheckpointStore.Verified v = TrainerCheckpoints.save(t, workDir.resolve("checkpoints"), run,
                    CheckpointManifest.DataPosition.none());
            log.accept("untrained cpu-preset image checkpoint: " + v.folder());
            return v.folder();
        }
    }

    private static int[] labels(List<Minibatch> batches) {
        int[] y = new int[batches.stream().mapToInt(Minibatch::batchSize).sum()];
        int row = 0;
        for (Minibatch b : batches) {
            for (int i = 0; i < b.batchSize(); i++) {
                y[row++] = b.labels() == null ? -1 : b.labels()[i];
            }
        }
        return y;
    }

    /** One source's train and test features with labels; the k-NN reads their last knnColumns (0: all). */
    private record Features(String name, FeatureSet train, FeatureSet test, int knnColumns) {
        int dims() {
            return train.dims();
        }
    }

    /** Wall and process CPU time (all threads, libtorch's included) and the load average since construction. */
    private static final class Stopwatch {
        private static final OperatingSystemMXBean OS = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        private final long wall0 = System.nanoTime();
        private final long cpu0 = OS.getProcessCpuTime();
        private final double load0 = OS.getSystemLoadAverage();

        double wall() {
            return (System.nanoTime() - wall0) / 1e9;
        }

        BenchResult result(String name, String set, Map<String, Object> machine, Map<String, Object> extra) {
            double cpu = (OS.getProcessCpuTime() - cpu0) / 1e9;
            Map<String, Object> p = new LinkedHashMap<>();
            if (!set.isEmpty()) {
                p.put("features", set);
            }
            p.putAll(extra);
            p.put("cpu_s", cpu);
            p.put("load_before", load0);
            p.put("load_after", OS.getSystemLoadAverage());
            p.putAll(machine);
            return new BenchResult(name, wall(), "s", p);
        }
    }

    /** The CPU model and the vector extensions the GEMMs can use, from /proc/cpuinfo (Linux; "unknown" elsewhere). */
    record CpuInfo(String model, int cores, boolean avx2, boolean avx512, boolean amx) {
        static CpuInfo read() {
            String model = "unknown";
            String flags = "";
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name") && model.equals("unknown")) {
                        model = line.substring(line.indexOf(':') + 1).trim();
                    } else if (line.startsWith("flags") && flags.isEmpty()) {
                        flags = " " + line.substring(line.indexOf(':') + 1).trim() + " ";
                    }
                }
            } catch (IOException e) {
                // not Linux: the flags stay false
            }
            return new CpuInfo(model, Runtime.getRuntime().availableProcessors(), flags.contains(" avx2 "),
                    flags.contains(" avx512f "), flags.contains(" amx_tile "));
        }

        Map<String, Object> params() {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("cpu_model", model);
            p.put("cores", cores);
            p.put("avx2", avx2);
            p.put("avx512", avx512);
            p.put("amx", amx);
            p.put("torch_threads", Engine.getInstance().getEngineName().equals("PyTorch")
                    ? System.getProperty("ai.djl.pytorch.num_threads", "default") : "n/a");
            return p;
        }
    }
}
