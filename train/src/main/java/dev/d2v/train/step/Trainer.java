package dev.d2v.train.step;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LossConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.ema.Ema;
import dev.d2v.train.guard.CollapseGuard;
import dev.d2v.train.loss.Losses;
import dev.d2v.train.mask.MaskBatch;
import dev.d2v.train.mask.Masking;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.optim.AdamW;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.tensor.Tokens;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The data2vec 2.0 training state and its update (Baevski et al. 2022): student, EMA teacher, AdamW, the
 * step counter. {@link #step} does one optimizer update on one modality batch inside its own NDManager and NDScope;
 * nothing native outlives it except the in-place updated parameters and optimizer moments.
 *
 * <p>Replays are exact on CPU: the masks are a function of (seed, step, sample id, clone) and the engine generator
 * (mask noise, dropout) is reseeded from (seed, step) at every step.
 */
public final class Trainer implements AutoCloseable {

    private Data2VecConfig config;
    private final Data2VecModel model;
    private final long seed;
    private final NDManager root;
    private final Params student;
    private final Params teacher;
    private final AdamW optimizer;
    private final StepStrategy strategy;
    private final Map<Modality, Long> samples = new EnumMap<>(Modality.class);
    private long step;
    private long skipped;

    /** A trainer of the data2vec 2.0 step. */
    public Trainer(Data2VecConfig config, Device device, long seed) {
        this(config, device, seed, StepStrategy.DATA2VEC_2);
    }

    /** A trainer whose step builds targets and runs the student as {@code strategy} says (step comparisons). */
    public Trainer(Data2VecConfig config, Device device, long seed, StepStrategy strategy) {
        this.strategy = strategy;
        this.config = config;
        this.model = new Data2VecModel(config);
        this.seed = seed;
        this.root = NDManager.newBaseManager(device);
        this.student = model.declare(root, seed);
        this.teacher = student.copy(Data2VecModel::inTeacher, root);
        strategy.declareStudentOnly(model, student, seed);                         // student only, after the copy
        this.student.requireGradients(true);
        this.teacher.requireGradients(false);
        this.optimizer = new AdamW(config.optim(), root);
    }

    public Data2VecConfig config() {
        return config;
    }

    /**
     * Stretches (or shrinks) the LR and tau schedules to a run of totalSteps, as {@link Data2VecConfig#forSteps}: a
     * run bound by wall time learns its length from its first steps. The next step reads the new schedules; the
     * checkpoints written afterwards carry them, so a resumed run keeps them.
     */
    public void reschedule(long totalSteps) {
        config = config.forSteps(totalSteps);
    }

    public Data2VecModel model() {
        return model;
    }

    public Params student() {
        return student;
    }

    public Params teacher() {
        return teacher;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public long seed() {
        return seed;
    }

    /** Optimizer steps done so far, which is also the index of the next step. */
    public long stepsDone() {
        return step;
    }

    /** The device the parameters live on. */
    public Device device() {
        return root.getDevice();
    }

    /** Steps skipped for a non-finite loss or gradient. */
    public long skipped() {
        return skipped;
    }

    public Map<Modality, Long> samplesSeen() {
        return Map.copyOf(samples);
    }

    /** Sets the counters after a checkpoint was loaded into the parameters and the optimiser. */
    public void resumeAt(long nextStep, Map<Modality, Long> samplesSeen, long skippedSteps) {
        this.step = nextStep;
        this.samples.clear();
        this.samples.putAll(samplesSeen);
        this.skipped = skippedSteps;
    }

    /** The counters a checkpoint stores beside the tensors (everything else is derived from seed and step). */
    public record Counters(long step, long skipped, Map<Modality, Long> samplesSeen, Map<String, Long> optimizerCounts) {}

    /** Tensor groups of the training state, by checkpoint group name: "student", "teacher", "optimizer". */
    public Map<String, Map<String, NDArray>> tensors() {
        Map<String, Map<String, NDArray>> out = new LinkedHashMap<>();
        out.put("student", student.view());
        out.put("teacher", teacher.view());
        out.put("optimizer", optimizer.state());
        return out;
    }

    public Counters counters() {
        return new Counters(step, skipped, samplesSeen(), optimizer.counts());
    }

    /**
     * Continues from saved state: parameters and moments are copied in, the counters set. The masks and the engine
     * generator are functions of (seed, step), so the next step is the one the saved run would have taken.
     */
    public void restore(Map<String, Map<String, NDArray>> tensors, Counters c) {
        student.load(require(tensors, "student"));
        teacher.load(require(tensors, "teacher"));
        optimizer.load(require(tensors, "optimizer"), c.optimizerCounts());
        resumeAt(c.step(), c.samplesSeen(), c.skipped());
    }

    private static Map<String, NDArray> require(Map<String, Map<String, NDArray>> tensors, String group) {
        Map<String, NDArray> g = tensors.get(group);
        if (g == null) {
            throw new IllegalArgumentException("saved training state has no '" + group + "' group; it has " + tensors.keySet());
        }
        return g;
    }

    private ModalityConfig section(Modality m) {
        ModalityConfig c = config.modality(m);
        if (c == null) {
            throw new BadBatchException(BadBatchException.NO_ENCODER, "the model has no " + m.id() + " encoder;"
                    + " configured: " + config.modalities());
        }
        return c;
    }

    /**
     * One update on batch b. A batch the model cannot take ({@link BatchTensors#check}, or a modality without an
     * encoder) throws {@link BadBatchException} before anything changes.
     */
    public StepResult step(Minibatch b) {
        Modality m = b.modality();
        ModalityConfig c = section(m);
        long start = System.nanoTime();
        long t = step;
        double lr = Schedules.learningRate(config.optim(), t) * c.lrFactor(config.optim()); // own peak, batch scale
        double tau = Schedules.tau(config.ema(), config.optim().warmupSteps(), t);
        Engine.getInstance().setRandomSeed(engineSeed(seed, t));
        // PyTorch's grad mode is per thread and on by default: DJL turns it off only on the thread that loaded the
        // engine. Off here, so the teacher builds no graph and the in-place updates are legal on any thread.
        JniUtils.setGradMode(false);
        try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
            BatchTensors in = BatchTensors.forTraining(b, c, scope);
            int tokens = model.tokens(m, in.input().getShape());
            int gridRows = model.gridRows(m, in.input().getShape());
            Data2VecModel.TeacherOut taught = strategy.targets(model, teacher, m, in, c.multiMask());   // no graph
            NDArray targets = taught.targets();                                                  // (B, T, D)
            MaskBatch mask = Masking.forBatch(c.masking(), gridRows, tokens, seed, t, in.sampleKeys(),
                    in.validTokens(), c.multiMask());
            double loss;
            double cls = 0;
            double pooled = 0;
            NDArray prediction;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray embedded = model.embed(student, m, in.input());
                Data2VecModel.StudentOut out = strategy.student(model, student, m, embedded, mask, gridRows);
                prediction = out.prediction();
                NDArray total = loss(c.loss(), out, targets, mask, c.multiMask(), scope);
                if (out.cls() != null && c.loss().clsLossWeight() > 0) {
                    NDArray clsPart = Losses.clsLoss(out.cls(), targets, c.multiMask(), c.loss().clsLossWeight(),
                            c.loss().scale(config.model().dim()));
                    cls = clsPart.getFloat();
                    total = total.add(clsPart);
                }
                if (out.pooled() != null && taught.pooled() != null) {
                    NDArray pooledPart = Losses.pooledLoss(out.pooled(), taught.pooled(), c.multiMask(),
                            c.loss().seqLossWeight(), c.loss().scale(config.model().dim()));
                    pooled = pooledPart.getFloat();
                    total = total.add(pooledPart);
                }
                loss = total.getFloat();
                if (Double.isFinite(loss)) {
                    collector.backward(total);
                }
            }
            boolean applied = false;
            double gradNorm = Double.NaN;
            if (Double.isFinite(loss)) {
                String table = m.id() + ".token_embed.weight";
                double tableLr = lr * c.embedLrScale();
                AdamW.Update u = optimizer.step(student, model.usedBy(m), name -> name.equals(table) ? tableLr : lr);
                gradNorm = u.gradNorm();
                applied = u.applied();
            }
            if (applied) {
                Ema.update(teacher.view(), student.view(), tau);
            } else {
                skipped++;
            }
            NDArray lossMask = Tokens.mask(scope, mask.lossMask());                              // (B * M, T)
            double predictionStd = CollapseGuard.channelStd(prediction, lossMask);
            NDArray validTokens = in.validTokens() == null ? null : Data2VecModel.validMask(scope, in.validTokens(), tokens);
            double targetStd = validTokens == null ? CollapseGuard.channelStd(targets)
                    : CollapseGuard.channelStd(targets, validTokens);
            double positionShare = CollapseGuard.positionShare(targets, validTokens);
            step++;
            samples.merge(m, (long) in.batchSize(), Long::sum);
            return new StepResult(t, m, loss, cls, pooled, lr, tau, gradNorm, targetStd, predictionStd, positionShare,
                    in.batchSize(), applied,
                    System.nanoTime() - start);
        }
    }

    /** Masked regression of the predictions against the targets repeated over the clones. */
    private NDArray loss(LossConfig l, Data2VecModel.StudentOut out, NDArray targets, MaskBatch mask, int clones,
                         NDManager scope) {
        NDArray repeated = Tokens.repeatInterleave(targets, clones);
        return Losses.maskedRegression(out.prediction(), repeated, Tokens.mask(scope, mask.lossMask()), l.lossBeta(),
                l.scale(config.model().dim()));
    }

    /** The engine generator's seed at step t: a mix of (seed, t), so a resumed run draws the same noise. */
    public static int engineSeed(long seed, long t) {
        long z = seed * 0x9e3779b97f4a7c15L + t;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return (int) ((z ^ (z >>> 31)) & 0x7fffffff);
    }

    @Override
    public void close() {
        root.close();
    }
}
