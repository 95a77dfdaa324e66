package dev.d2v.pipelines.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.DecoderConfig;
import dev.d2v.train.config.MaskingConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.run.MatmulPrecision;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.StepStrategy;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * `d2v bench train`: the speed of the training step on this machine (train/TRAIN.md "Benchmarks"). Every ratio is
 * measured side by side: both variants in one process, interleaved step by step after a warm-up, medians compared.
 * A step is {@link Trainer#step} (decode, teacher targets, masks, forward, backward, AdamW, EMA), timed whole.
 *
 * <p>Stable names: fastest_threads, train_samples_per_s, train_gflops, cpu_peak_fraction, inverse_mask_speedup,
 * conv_decoder_speedup, multimask_teacher_reuse_cost_ratio, matmul_gflops, matmul_precision_medium_speedup,
 * peak_rss_mb.
 */
public final class TrainBench {

    /** Names that every run prints (the test checks each is finite and positive). */
    public static final List<String> STABLE_NAMES = List.of("fastest_threads", "train_samples_per_s", "train_gflops",
            "cpu_peak_fraction", "inverse_mask_speedup", "conv_decoder_speedup", "multimask_teacher_reuse_cost_ratio",
            "matmul_gflops", "matmul_precision_medium_speedup", "peak_rss_mb");

    /** Image mask ratios of the inverse-masking comparison: the reference's 0.8 and the cpu preset's 0.6. */
    static final double[] MASK_RATIOS = {0.8, 0.6};

    /** Clones of the teacher-reuse comparison (the M = 8). */
    static final int REUSE_CLONES = 8;

    /**
     * @param preset      name printed with every figure
     * @param config      the model (every figure but the per-modality throughput is on its image section)
     * @param batchSize   samples per step, every modality
     * @param warmup      untimed steps per variant first (allocator, JIT, caches)
     * @param rounds      timed steps per variant
     * @param perModality also throughput for audio and text where the config has them
     * @param matmulSize  side of the square matmul for matmul_gflops (the engine's best case)
     * @param seed        model init, masks and batches
     * @param budgetSeconds timed seconds per measurement after which it stops early (at least 3 rounds): keeps the
     *                    run short when other processes load the machine
     * @param ratioThreads intra-op threads of the side-by-side ratios (0: the fastest found). Default 1: on cores
     *                    shared with other processes a team of 2 OpenMP threads stalls at its barriers (measured 10-20x
     *                    slower per step under load 10 on 2 cores), and a ratio of two stalled steps says nothing
     */
    public record Options(String preset, Data2VecConfig config, int batchSize, int warmup, int rounds,
                          boolean perModality, int matmulSize, long seed, double budgetSeconds, int ratioThreads) {

        public Options {
            if (config.image() == null) {
                throw new IllegalArgumentException("the train benchmark needs an image section in the config");
            }
            if (batchSize < 1 || warmup < 0 || rounds < 1 || matmulSize < 1 || !(budgetSeconds > 0) || ratioThreads < 0) {
                throw new IllegalArgumentException("bench needs batch >= 1, warmup >= 0, rounds >= 1, matmul size >= 1, "
                        + "budget > 0, ratio threads >= 0");
            }
        }

        /** The default run: about 4-5 minutes on 2 cores with the cpu preset (9 measurements of at most ~25 s timed). */
        public static Options standard(String preset, int batchSize) {
            return new Options(preset, Data2VecConfig.preset(preset), batchSize, 2, 15, true, 1024, 1, 25, 1);
        }

        /** The same run with other counts and ratio threads. */
        public Options with(int warmupSteps, int timedRounds, int threadsOfRatios) {
            return new Options(preset, config, batchSize, warmupSteps, timedRounds, perModality, matmulSize, seed,
                    budgetSeconds, threadsOfRatios);
        }

        /** A smoke run (about 30 s): one warm-up step, three timed ones, image only. */
        public static Options quick(String preset, int batchSize) {
            return new Options(preset, Data2VecConfig.preset(preset), batchSize, 1, 3, false, 512, 1, 5, 1);
        }
    }

    private final Options o;
    private final Consumer<BenchResult> out;
    private final Consumer<String> progress;
    private final CpuPeak peak = CpuPeak.here();
    private int threads;

    private TrainBench(Options o, Consumer<BenchResult> out, Consumer<String> progress) {
        this.o = o;
        this.out = out;
        this.progress = progress;
    }

    /**
     * Runs every measurement, handing each figure to out as soon as it is known and progress lines to progress.
     * Leaves the engine's intra-op thread count at the fastest one found.
     */
    public static List<BenchResult> run(Options o, Consumer<BenchResult> out, Consumer<String> progress) throws Exception {
        List<BenchResult> all = new ArrayList<>();
        TrainBench b = new TrainBench(o, r -> {
            all.add(r);
            out.accept(r);
        }, progress);
        b.all();
        return all;
    }

    private void all() throws Exception {
        Engine.getInstance();                                  // loads libtorch before the first JniUtils call
        Data2VecConfig image = single(o.config(), Modality.IMAGE);
        fastestThreads(image);
        throughput(image, Modality.IMAGE);
        stepProfile(image);
        if (o.perModality()) {
            for (Modality m : List.of(Modality.AUDIO, Modality.TEXT)) {
                if (o.config().modality(m) != null) {
                    throughput(single(o.config(), m), m);
                }
            }
        }
        matmul();
        int fastest = threads;
        useThreads(o.ratioThreads() == 0 ? fastest : o.ratioThreads());
        for (double ratio : MASK_RATIOS) {
            inverseMask(image, ratio);
        }
        convDecoder(image);
        teacherReuse(image);
        matmulPrecision(image);
        useThreads(fastest);
        emit("peak_rss_mb", peakRssMb(), "MB", Map.of("source", "VmHWM of /proc/self/status, the whole JVM"));
    }

    // ---- the measurements ----

    /** Steps/s at 1, 2 (and all cores where more) intra-op threads, interleaved on one trainer. */
    private void fastestThreads(Data2VecConfig c) throws Exception {
        int defaultThreads = JniUtils.getNumThreads();
        List<Integer> counts = new ArrayList<>(List.of(1, 2));
        if (peak.cores() > 2) {
            counts.add(peak.cores());
        }
        progress.accept("threads " + counts + " (engine default " + defaultThreads + ")");
        try (Trainer t = new Trainer(c, Device.cpu(), o.seed())) {
            Minibatch b = batch(c, Modality.IMAGE);
            List<Timing.Action> actions = new ArrayList<>();
            for (int n : counts) {
                actions.add(() -> {
                    JniUtils.setNumThreads(n);
                    step(t, b);
                });
            }
            double[][] times = Timing.interleaved(actions, o.warmup(), o.rounds(), 1.5 * o.budgetSeconds());
            Map<String, Object> p = params(c, Modality.IMAGE);
            p.remove("threads");
            p.put("default_threads", defaultThreads);
            int best = counts.get(0);
            double bestTime = Double.MAX_VALUE;
            for (int i = 0; i < counts.size(); i++) {
                double med = Timing.median(times[i]);
                p.put("steps_per_s_" + counts.get(i) + "_threads", 1 / med);
                if (med < bestTime) {
                    bestTime = med;
                    best = counts.get(i);
                }
            }
            p.put("rounds", times[0].length);
            p.put("how", "JniUtils.setNumThreads(n) between interleaved steps in one JVM");
            useThreads(best);
            emit("fastest_threads", best, "threads", p);
        }
    }

    /**
     * The image step under libtorch's profiler ({@link StepProfile}): the share of the step inside libtorch's
     * operators, the rest (Java, JNI, DJL's array bookkeeping), the operators called per step and the operator kinds
     * that take the most time. Two unprofiled steps first, then {@value #PROFILED_STEPS} profiled.
     */
    private void stepProfile(Data2VecConfig c) throws Exception {
        progress.accept("step profile");
        Path scratch = Files.createTempDirectory("d2v-step-profile");
        try (Trainer t = new Trainer(c, Device.cpu(), o.seed())) {
            Minibatch b = batch(c, Modality.IMAGE);
            step(t, b);
            step(t, b);
            StepProfile sp = StepProfile.of(() -> step(t, b), PROFILED_STEPS, scratch);
            Map<String, Object> p = params(c, Modality.IMAGE);
            p.put("profiled_steps", sp.steps());
            p.put("step_ms", sp.stepMs());
            p.put("libtorch_ms", sp.libtorchMsPerStep());
            p.put("outside_libtorch_ms", sp.outsideMsPerStep());
            p.put("java_calls_per_step", sp.topLevelOpsPerStep());
            p.put("ops_per_step", sp.opsPerStep());
            p.put("top_ops_self_share", sp.topKinds(TOP_OPS));
            emit("train_step_libtorch_share", sp.libtorchMsPerStep() / sp.stepMs(), "fraction", p);
        } finally {
            FileTrees.delete(scratch);
        }
    }

    static final int PROFILED_STEPS = 3;
    static final int TOP_OPS = 10;

    /** samples/s and achieved GFLOP/s of the preset's own step on modality m. */
    private void throughput(Data2VecConfig c, Modality m) throws Exception {
        progress.accept("throughput " + m.id());
        try (Trainer t = new Trainer(c, Device.cpu(), o.seed())) {
            Minibatch b = batch(c, m);
            double[][] times = Timing.interleaved(List.of(() -> step(t, b)), o.warmup(), o.rounds(), o.budgetSeconds());
            double sec = Timing.median(times[0]);
            double flops = StepFlops.perStep(c, m, o.batchSize(), false, false);
            Map<String, Object> p = params(c, m);
            p.put("step_s", sec);
            p.put("rounds", times[0].length);
            emit("train_samples_per_s", o.batchSize() / sec, "samples/s", p);
            if (m == Modality.IMAGE) {
                double gflops = flops / sec / 1e9;
                Map<String, Object> g = new LinkedHashMap<>(p);
                g.put("gflop_per_step", flops / 1e9);
                g.put("counted", "matmuls and convs from the shapes: teacher forward + 3 x student forward");
                emit("train_gflops", gflops, "GFLOP/s", g);
                Map<String, Object> f = new LinkedHashMap<>(g);
                f.put("peak_gflops", peak.gflops());
                f.put("peak_derivation", peak.derivation());
                // the step runs on `threads` cores of the `cores` the peak counts
                f.put("fraction_of_used_cores_peak", gflops / (peak.gflops() / peak.cores() * Math.min(threads, peak.cores())));
                emit("cpu_peak_fraction", gflops / peak.gflops(), "fraction", f);
            }
        }
    }

    /** Mask-token student (all T tokens) / inverse masking (visible tokens only), image at this mask ratio. */
    private void inverseMask(Data2VecConfig image, double ratio) throws Exception {
        progress.accept("inverse masking at mask ratio " + ratio);
        ModalityConfig ic = image.image();
        MaskingConfig mk = ic.masking();
        Data2VecConfig c = image.with(Modality.IMAGE, ic.withMasking(
                new MaskingConfig(mk.kind(), ratio, mk.blockLength(), mk.maskProbAdjust(), mk.inverseMask())));
        double[] r = compare(c, c, new MaskTokenStudent(), StepStrategy.DATA2VEC_2);
        Map<String, Object> p = params(c, Modality.IMAGE);
        p.put("mask_ratio", ratio);
        p.put("step_s_mask_tokens", r[0]);
        p.put("step_s_inverse", r[1]);
        p.put("rounds", (int) r[2]);
        p.put("gflop_per_step_mask_tokens", StepFlops.perStep(c, Modality.IMAGE, o.batchSize(), true, false) / 1e9);
        p.put("gflop_per_step_inverse", StepFlops.perStep(c, Modality.IMAGE, o.batchSize(), false, false) / 1e9);
        emit("inverse_mask_speedup", r[0] / r[1], "x", p);
    }

    /** Transformer decoder (same width and layers) / conv decoder. */
    private void convDecoder(Data2VecConfig image) throws Exception {
        progress.accept("conv vs transformer decoder");
        ModalityConfig ic = image.image();
        DecoderConfig d = ic.decoder();
        DecoderConfig transformer = new DecoderConfig(false, d.dim(), d.layers(), d.kernel(), d.groups(), d.residual(),
                d.projectionLayers());
        DecoderConfig conv = new DecoderConfig(true, d.dim(), d.layers(), d.kernel(), d.groups(), d.residual(),
                d.projectionLayers());
        Data2VecConfig ct = image.with(Modality.IMAGE, ic.withDecoder(transformer));
        Data2VecConfig cc = image.with(Modality.IMAGE, ic.withDecoder(conv));
        double[] r = compare(ct, cc, StepStrategy.DATA2VEC_2, StepStrategy.DATA2VEC_2);
        Map<String, Object> p = params(cc, Modality.IMAGE);
        p.put("decoder_dim", d.dim());
        p.put("decoder_layers", d.layers());
        p.put("step_s_transformer", r[0]);
        p.put("step_s_conv", r[1]);
        p.put("rounds", (int) r[2]);
        emit("conv_decoder_speedup", r[0] / r[1], "x", p);
    }

    /** M = 8 clones: the teacher on every clone / the teacher once per sample. */
    private void teacherReuse(Data2VecConfig image) throws Exception {
        progress.accept("teacher reuse over " + REUSE_CLONES + " clones");
        Data2VecConfig c = image.with(Modality.IMAGE, image.image().withMultiMask(REUSE_CLONES));
        double[] r = compare(c, c, new TeacherPerClone(), StepStrategy.DATA2VEC_2);
        Map<String, Object> p = params(c, Modality.IMAGE);
        p.put("step_s_teacher_per_clone", r[0]);
        p.put("step_s_teacher_once", r[1]);
        p.put("rounds", (int) r[2]);
        emit("multimask_teacher_reuse_cost_ratio", r[0] / r[1], "x", p);
    }

    /**
     * The image step at libtorch's matmul precision highest (fp32, the default) / medium (bf16 inputs where oneDNN has
     * kernels for this CPU), two trainers of the same seed on the same batch, interleaved; with the n x n matmul's
     * GFLOP/s under each, whether medium's products show bf16 rounding (they do only where oneDNN ran bf16 kernels),
     * and how far the two trainers' losses are apart after the timed steps. Leaves the precision at highest.
     */
    private void matmulPrecision(Data2VecConfig image) throws Exception {
        progress.accept("matmul precision highest vs medium");
        Map<String, Object> p = params(image, Modality.IMAGE);
        try (Trainer high = new Trainer(image, Device.cpu(), o.seed());
             Trainer medium = new Trainer(image, Device.cpu(), o.seed());
             NDManager mgr = NDManager.newBaseManager(Device.cpu())) {
            Minibatch batch = batch(image, Modality.IMAGE);
            double[] loss = new double[2];
            double[][] times = Timing.interleaved(List.of(() -> {
                MatmulPrecision.HIGHEST.apply();
                loss[0] = high.step(batch).loss();
            }, () -> {
                MatmulPrecision.MEDIUM.apply();
                loss[1] = medium.step(batch).loss();
            }), o.warmup(), o.rounds(), o.budgetSeconds());
            int n = o.matmulSize();
            NDArray a = mgr.randomNormal(new Shape(n, n));
            NDArray b = mgr.randomNormal(new Shape(n, n));
            double[] gflops = new double[2];
            float[][] products = new float[2][];
            MatmulPrecision[] both = {MatmulPrecision.HIGHEST, MatmulPrecision.MEDIUM};
            for (int i = 0; i < 2; i++) {
                both[i].apply();
                try (NDArray c = a.matMul(b)) {
                    products[i] = c.toFloatArray();
                }
                gflops[i] = matmulGflops(a, b, o.budgetSeconds() / 2);
            }
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < products[0].length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(products[0][i] - products[1][i]));
                maxAbs = Math.max(maxAbs, Math.abs(products[0][i]));
            }
            p.put("step_s_highest", Timing.median(times[0]));
            p.put("step_s_medium", Timing.median(times[1]));
            p.put("rounds", times[0].length);
            p.put("matmul_gflops_highest", gflops[0]);
            p.put("matmul_gflops_medium", gflops[1]);
            p.put("matmul_size", n);
            p.put("medium_product_max_relative_difference", maxDiff / maxAbs);
            // fp32 in another summation order moves a product by ~1e-6 of the largest; bf16 inputs (8-bit mantissa)
            // by ~1e-3
            p.put("bf16_products", maxDiff / maxAbs > BF16_EVIDENCE);
            p.put("loss_after_timed_steps_highest", loss[0]);
            p.put("loss_after_timed_steps_medium", loss[1]);
            p.put("cpu_bf16_flags", bf16Flags());
            emit("matmul_precision_medium_speedup", Timing.median(times[0]) / Timing.median(times[1]), "x", p);
        } finally {
            MatmulPrecision.HIGHEST.apply();
        }
    }

    /** The relative difference from fp32 above which medium's products show bf16 inputs. */
    static final double BF16_EVIDENCE = 1e-4;

    /** The processor's bf16 features from /proc/cpuinfo ({@link CpuPeak#bf16Flags}), or "unknown". */
    static String bf16Flags() {
        try {
            return CpuPeak.bf16Flags(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** GFLOP/s of one n x n x n fp32 matmul: what the engine reaches at best on this machine. */
    private void matmul() throws Exception {
        int n = o.matmulSize();
        progress.accept("matmul " + n);
        try (NDManager mgr = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = mgr.randomNormal(new Shape(n, n));
            NDArray b = mgr.randomNormal(new Shape(n, n));
            double gflops = matmulGflops(a, b, o.budgetSeconds());
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("size", n);
            p.put("threads", threads);
            p.put("load_avg_1m", loadAverage());
            p.put("omp_wait_policy", ompWaitPolicy());
            p.put("peak_gflops", peak.gflops());
            emit("matmul_gflops", gflops, "GFLOP/s", p);
        }
    }

    /** GFLOP/s of the square product a x b: the median of at least 5 timed products after 2 untimed ones. */
    private double matmulGflops(NDArray a, NDArray b, double budgetSeconds) throws Exception {
        long n = a.getShape().get(0);
        double[][] times = Timing.interleaved(List.of(() -> {
            try (NDArray c = a.matMul(b)) {
                c.getFloat(0, 0);                                           // wait for the result
            }
        }), 2, Math.max(5, o.rounds()), budgetSeconds);
        return 2.0 * n * n * n / Timing.median(times[0]) / 1e9;
    }

    // ---- helpers ----

    /** Median step seconds of variant a on config ca and b on cb, interleaved: {a, b, rounds timed}. */
    private double[] compare(Data2VecConfig ca, Data2VecConfig cb, StepStrategy va, StepStrategy vb) throws Exception {
        try (Trainer a = new Trainer(ca, Device.cpu(), o.seed(), va);
             Trainer b = new Trainer(cb, Device.cpu(), o.seed(), vb)) {
            Minibatch batch = batch(ca, Modality.IMAGE);
            double[][] times = Timing.interleaved(List.of(() -> step(a, batch), () -> step(b, batch)), o.warmup(), o.rounds(),
                    o.budgetSeconds());
            return new double[] {Timing.median(times[0]), Timing.median(times[1]), times[0].length};
        }
    }

    private void useThreads(int n) {
        threads = n;
        JniUtils.setNumThreads(n);
    }

    private static void step(Trainer t, Minibatch b) {
        StepResult r = t.step(b);
        if (!Double.isFinite(r.loss())) {
            throw new IllegalStateException("benchmark step " + r.step() + " gave loss " + r.loss());
        }
    }

    private Minibatch batch(Data2VecConfig c, Modality m) {
        return BenchBatches.of(m, c.modality(m).localEncoder(), o.batchSize(), o.seed());
    }

    private Map<String, Object> params(Data2VecConfig c, Modality m) {
        ModalityConfig mc = c.modality(m);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("preset", o.preset());
        p.put("modality", m.id());
        p.put("batch_size", o.batchSize());
        p.put("multi_mask", mc.multiMask());
        p.put("mask_ratio", mc.masking().maskRatio());
        p.put("tokens", mc.localEncoder().tokens(m));
        p.put("dim", c.model().dim());
        p.put("depth", c.model().depth());
        p.put("threads", threads);
        p.put("cores", peak.cores());
        p.put("load_avg_1m", loadAverage());
        p.put("omp_wait_policy", ompWaitPolicy());
        return p;
    }

    private void emit(String name, double value, String unit, Map<String, Object> params) {
        out.accept(new BenchResult(name, value, unit, params));
    }

    /** The config trained on m alone, keeping its own EMA and optimiser (unlike {@link Data2VecConfig#only}). */
    static Data2VecConfig single(Data2VecConfig c, Modality m) {
        return new Data2VecConfig(c.model(), m == Modality.IMAGE ? c.image() : null, m == Modality.AUDIO ? c.audio() : null,
                m == Modality.TEXT ? c.text() : null, c.ema(), c.optim(), c.collapseGuard());
    }

    /** OMP_WAIT_POLICY of this process (libtorch's libgomp reads it at start): how idle OpenMP threads wait. */
    static String ompWaitPolicy() {
        String v = System.getenv("OMP_WAIT_POLICY");
        return v == null || v.isBlank() ? "unset" : v;
    }

    /** The 1-minute load average (other processes share the cores: read the figures with it), or NaN. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** VmHWM (peak resident set) of this process in MB, or NaN where /proc is missing. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;   // kB
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
