package dev.d2v.pipelines.bench;

import ai.djl.Device;
import dev.d2v.evaluate.CheckpointEvaluation;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.evaluate.probe.LinearModel;
import dev.d2v.evaluate.probe.LinearProbe;
import dev.d2v.export.ExportPackage;
import dev.d2v.export.OnnxEncoder;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.ProbeTask;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The exported encoder against the DJL one it came from, on a probe task: agreement (fp32 ONNX vs DJL features), what
 * int8 costs (size, per-token cosine to fp32, linear-probe points) and what it buys (speed at batch 1 and 64, one
 * thread, DJL, ONNX Runtime fp32 and int8 timed in turn, round after round, so that a change of load hits all three).
 */
public final class ExportBench {

    /**
     * @param checkpoint a checkpoint folder; null = an untrained cpu-preset image checkpoint
     * @param task       the probe task (its modality is the one measured)
     * @param trainLimit probe training records (0 = all)
     * @param testLimit  probe test records (0 = all)
     * @param rounds     timed calls per engine and batch size
     * @param batches    the batch sizes timed (at most the probe's batch size, 64)
     */
    public record Options(Path checkpoint, String task, int trainLimit, int testLimit, int rounds, List<Integer> batches,
                          Path workDir) {}

    private ExportBench() {}

    public static void run(Options o, DataContext data, Consumer<BenchResult> sink, Consumer<String> log)
            throws Exception {
        Map<String, Object> machine = EvalBench.CpuInfo.read().params();
        Path checkpoint = o.checkpoint() != null ? o.checkpoint() : EvalBench.quickCheckpoint(o.workDir(), log);
        FrozenFeatureProbes.Config probes = FrozenFeatureProbes.Config.defaults().withThreads(1);
        CheckpointEvaluation evaluation = new CheckpointEvaluation(data, new FeatureCache(o.workDir().resolve("unused")),
                new CheckpointEvaluation.Options(List.of(o.task()), o.trainLimit(), o.testLimit(), 64, 7, Device.cpu(),
                        probes, null), log);
        ProbeTask task = evaluation.probeTask(checkpoint, o.task());
        Modality m = task.modality();
        Path pkgDir = o.workDir().resolve("export");
        ExportPackage.Loaded pkg = ExportPackage.fromCheckpoint(checkpoint, List.of(m), true, pkgDir, "bench");
        Map<String, Object> common = new LinkedHashMap<>();
        common.put("modality", m.id());
        common.put("task", task.name());
        common.put("checkpoint_step", pkg.step());
        common.putAll(machine);

        long fp32Bytes = Files.size(pkg.model(m));
        long int8Bytes = Files.size(pkg.int8Model(m).orElseThrow());
        sink.accept(result("int8_size_ratio", (double) int8Bytes / fp32Bytes, "ratio", common,
                Map.of("fp32_bytes", fp32Bytes, "int8_bytes", int8Bytes)));

        OnnxEncoder.Options one = OnnxEncoder.Options.defaults().withThreads(1);
        try (Encoder djl = Encoder.fromCheckpoint(checkpoint, Device.cpu());
             OnnxEncoder fp32 = OnnxEncoder.load(pkgDir, m, one);
             OnnxEncoder int8 = OnnxEncoder.load(pkgDir, m, one.withInt8(true))) {
            log.accept("features: DJL, ONNX fp32, ONNX int8 on " + task.trainSamples() + " + " + task.testSamples() + " records");
            float[][] djlTest = djl.features(m, task.test(), Readout.LAYERS, () -> { });
            double maxDiff = 0;
            double cosMin = 1;
            List<float[]> fpTest = new ArrayList<>();
            List<float[]> qTest = new ArrayList<>();
            for (Minibatch b : task.test()) {
                OnnxEncoder.Features f = fp32.encode(b);
                OnnxEncoder.Features q = int8.encode(b);
                cosMin = Math.min(cosMin, minTokenCosine(f, q, b));
                for (int i = 0; i < f.n(); i++) {
                    fpTest.add(f.layers(i));
                    qTest.add(q.layers(i));
                }
            }
            for (int i = 0; i < djlTest.length; i++) {
                for (int j = 0; j < djlTest[i].length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(djlTest[i][j] - fpTest.get(i)[j]));
                }
            }
            sink.accept(result("onnx_vs_djl_max_abs_diff", maxDiff, "", common,
                    Map.of("readout", "layers", "rows", djlTest.length)));
            sink.accept(result("int8_cosine_min", cosMin, "", common, Map.of("over", "every real token of the test split")));

            List<float[]> fpTrain = new ArrayList<>();
            List<float[]> qTrain = new ArrayList<>();
            for (Minibatch b : task.train()) {
                OnnxEncoder.Features f = fp32.encode(b);
                OnnxEncoder.Features q = int8.encode(b);
                for (int i = 0; i < f.n(); i++) {
                    fpTrain.add(f.layers(i));
                    qTrain.add(q.layers(i));
                }
            }
            int classes = task.labelNames().size();
            int[] yTrain = labels(task.train());
            int[] yTest = labels(task.test());
            LinearModel fpModel = LinearProbe.fit(fpTrain.toArray(float[][]::new), yTrain, classes, probes.linear());
            double fpAcc = fpModel.accuracy(fpTest.toArray(float[][]::new), yTest);
            LinearModel qModel = LinearProbe.fit(qTrain.toArray(float[][]::new), yTrain, classes, probes.linear());
            double qAcc = qModel.accuracy(qTest.toArray(float[][]::new), yTest);
            sink.accept(result("int8_probe_drop", 100 * (fpAcc - qAcc), "points", common,
                    Map.of("fp32_accuracy", fpAcc, "int8_accuracy", qAcc, "readout", "layers",
                            "train_rows", yTrain.length, "test_rows", yTest.length)));
            log.accept(String.format("linear probe: fp32 %.2f%%, int8 %.2f%%", 100 * fpAcc, 100 * qAcc));

            for (int batch : o.batches()) {
                List<Minibatch> input = List.of(slice(task.test(), batch));
                double[] tDjl = new double[o.rounds()];
                double[] tFp = new double[o.rounds()];
                double[] tQ = new double[o.rounds()];
                djl.features(m, input, Readout.LAYERS, () -> { });   // warm-up
                fp32.encode(input.get(0));
                int8.encode(input.get(0));
                for (int r = 0; r < o.rounds(); r++) {
                    long t0 = System.nanoTime();
                    djl.features(m, input, Readout.LAYERS, () -> { });
                    long t1 = System.nanoTime();
                    fp32.encode(input.get(0));
                    long t2 = System.nanoTime();
                    int8.encode(input.get(0));
                    long t3 = System.nanoTime();
                    tDjl[r] = (t1 - t0) / 1e6;
                    tFp[r] = (t2 - t1) / 1e6;
                    tQ[r] = (t3 - t2) / 1e6;
                }
                double mDjl = median(tDjl);
                double mFp = median(tFp);
                double mQ = median(tQ);
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("batch", batch);
                p.put("threads", 1);
                p.put("rounds", o.rounds());
                p.put("djl_ms_median", mDjl);
                p.put("ort_fp32_ms_median", mFp);
                p.put("ort_int8_ms_median", mQ);
                sink.accept(result("ort_fp32_vs_djl_speedup", mDjl / mFp, "x", common, p));
                sink.accept(result("int8_vs_fp32_speedup", mFp / mQ, "x", common, p));
                log.accept(String.format("batch %d: DJL %.2f ms, ONNX fp32 %.2f ms, int8 %.2f ms (medians of %d)",
                        batch, mDjl, mFp, mQ, o.rounds()));
            }
        }
    }

    /** The least cosine between fp32 and int8 outputs over the real tokens of a batch. */
    private static double minTokenCosine(OnnxEncoder.Features f, OnnxEncoder.Features q, Minibatch b) {
        double worst = 1;
        for (int i = 0; i < f.n(); i++) {
            int real = b.modality() == Modality.IMAGE || b.validLengths() == null ? f.t()
                    : Math.max(1, Math.min(f.t(), b.modality() == Modality.AUDIO ? (b.validLengths()[i] + 1) / 2 : b.validLengths()[i]));
            for (int t = 0; t < real; t++) {
                int base = (i * f.t() + t) * f.d();
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int d = 0; d < f.d(); d++) {
                    double x = f.tokens()[base + d];
                    double y = q.tokens()[base + d];
                    dot += x * y;
                    na += x * x;
                    nb += y * y;
                }
                worst = Math.min(worst, dot / Math.sqrt(na * nb));
            }
        }
        return worst;
    }

    /** The first n samples of the batches, as one batch. */
    static Minibatch slice(List<Minibatch> batches, int n) {
        Minibatch first = batches.get(0);
        if (first.batchSize() < n) {
            throw new IllegalArgumentException("the probe's batches hold " + first.batchSize() + " samples, fewer than " + n);
        }
        int[] shape = first.shape().clone();
        shape[0] = n;
        Minibatch.Builder builder = Minibatch.builder(first.modality(), shape)
                .sampleIds(first.sampleIds().subList(0, n));
        if (first.validLengths() != null) {
            builder.validLengths(Arrays.copyOf(first.validLengths(), n));
        }
        int elements = first.elementsPerSample() * n;
        return switch (first.dtype()) {
            case UINT8 -> builder.uint8(Arrays.copyOf(first.payload(), elements));
            case FP16 -> builder.fp16(Arrays.copyOf(first.toFloatArray(), elements));
            case FP32 -> builder.fp32(Arrays.copyOf(first.toFloatArray(), elements));
            case INT32 -> builder.int32(Arrays.copyOf(first.toIntArray(), elements));
        };
    }

    private static int[] labels(List<Minibatch> batches) {
        int[] y = new int[batches.stream().mapToInt(Minibatch::batchSize).sum()];
        int row = 0;
        for (Minibatch b : batches) {
            for (int i = 0; i < b.batchSize(); i++) {
                y[row++] = b.labels()[i];
            }
        }
        return y;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static BenchResult result(String name, double value, String unit, Map<String, Object> common,
                                      Map<String, Object> extra) {
        Map<String, Object> p = new LinkedHashMap<>(extra);
        p.putAll(common);
        return new BenchResult(name, value, unit, p);
    }
}
