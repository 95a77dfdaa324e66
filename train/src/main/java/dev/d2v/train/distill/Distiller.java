package dev.d2v.train.distill;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Init;
import dev.d2v.train.model.Layers;
import dev.d2v.train.model.Params;
import dev.d2v.train.optim.AdamW;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.step.BatchTensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Knowledge distillation of a frozen data2vec encoder (the teacher) into a smaller one (the student): the student's
 * last-block features, mapped to the teacher's width by a linear head ({@value #HEAD}), regress the teacher's
 * last-block features, per token and mean-pooled, with a mean squared error. The teacher's features are normalised
 * per token without affine parameters (as data2vec normalises its targets), so that the loss does not depend on their
 * scale. Full inputs, no masking, no decoder: the student learns to reproduce the teacher's representation of each
 * input.
 * <pre>
 *   loss = mean over real tokens |head(s_t) - LN(t_t)|^2 / D_t  +  mean over samples |pool(head(s)) - pool(LN(t))|^2 / D_t
 * </pre>
 * The student is a plain {@link Data2VecModel} of its own config (its decoder declared but unused), so its checkpoints
 * are evaluated and exported as any other.
 */
public final class Distiller implements AutoCloseable {

    /** The linear head from the student's width to the teacher's: {@value #HEAD}.weight (Dt, Ds) and .bias. */
    public static final String HEAD = "distill.head";

    private final Data2VecConfig studentConfig;
    private final Data2VecModel studentModel;
    private final Data2VecModel teacherModel;
    private final Modality modality;
    private final NDManager root;
    private final Params student;
    private final Params teacher;
    private final AdamW optimizer;
    private final Predicate<String> trained;
    private long step;

    /** One distillation step's figures. */
    public record Step(long step, double loss, double tokenLoss, double pooledLoss, double lr, double gradNorm,
                       int batch, long nanos) {}

    /**
     * @param teacherConfig  the teacher's config; its weights come in {@code teacherWeights}
     * @param studentConfig  the student's config (modality m's local encoder must take the teacher's inputs)
     */
    public Distiller(Data2VecConfig teacherConfig, Map<String, NDArray> teacherWeights, Data2VecConfig studentConfig,
                     Modality m, Device device, long seed) {
        if (studentConfig.modality(m) == null || teacherConfig.modality(m) == null) {
            throw new IllegalArgumentException("teacher and student both need a " + m.id() + " encoder");
        }
        this.studentConfig = studentConfig;
        this.modality = m;
        this.studentModel = new Data2VecModel(studentConfig);
        this.teacherModel = new Data2VecModel(teacherConfig);
        this.root = NDManager.newBaseManager(device);
        this.teacher = teacherModel.declare(root, 0);
        teacher.load(teacherWeights);
        teacher.requireGradients(false);
        this.student = studentModel.declare(root, seed);
        int ds = studentConfig.model().dim();
        int dt = teacherConfig.model().dim();
        Layers.declareLinear(student, new Init(seed + 1), HEAD, ds, dt);
        student.requireGradients(true);
        Predicate<String> own = studentModel.usedBy(m);
        this.trained = name -> name.startsWith(HEAD + ".") || (own.test(name) && Data2VecModel.inTeacher(name));
        this.optimizer = new AdamW(studentConfig.optim(), root);
    }

    public Data2VecConfig studentConfig() {
        return studentConfig;
    }

    public Modality modality() {
        return modality;
    }

    public long stepsDone() {
        return step;
    }

    /** The student's parameters (its head included). */
    public Params student() {
        return student;
    }

    /** Scalars of the student encoder (the head and the unused decoder not counted). */
    public long studentEncoderParameters() {
        return studentModel.encoderParameters(student.view(), modality);
    }

    /** Scalars of the teacher's encoder of this modality. */
    public long teacherEncoderParameters() {
        return teacherModel.encoderParameters(teacher.view(), modality);
    }

    /** One update on batch b. */
    public Step step(Minibatch b) {
        long start = System.nanoTime();
        double lr = Schedules.learningRate(studentConfig.optim(), step);
        JniUtils.setGradMode(false);
        try (NDManager scope = root.newSubManager(); NDScope ignored = new NDScope()) {
            BatchTensors in = BatchTensors.of(b, studentConfig.modality(modality), scope);
            NDArray target = Layers.layerNormNoAffine(                                               // (B, T, Dt)
                    teacherModel.lastBlock(teacher, modality, in.input(), in.validTokens()));
            long t = target.getShape().get(1);
            NDArray w = in.validTokens() == null ? null
                    : Data2VecModel.validMask(scope, in.validTokens(), t).toType(DataType.FLOAT32, false)
                    .reshape(b.batchSize(), t, 1);
            double loss;
            double tokenLoss;
            double pooledLoss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray s = Layers.linear(student, HEAD,                                              // (B, T, Dt)
                        studentModel.lastBlock(student, modality, in.input(), in.validTokens()));
                NDArray perToken = s.sub(target).square().mean(new int[] {-1}, true);                   // (B, T, 1)
                NDArray tokens = w == null ? perToken.mean() : perToken.mul(w).sum().div(w.sum());
                NDArray pooled = Data2VecModel.pool(s, w).sub(Data2VecModel.pool(target, w)).square().mean();
                NDArray total = tokens.add(pooled);
                tokenLoss = tokens.getFloat();
                pooledLoss = pooled.getFloat();
                loss = total.getFloat();
                collector.backward(total);
            }
            AdamW.Update u = optimizer.step(student, trained, lr);
            step++;
            return new Step(step - 1, loss, tokenLoss, pooledLoss, lr, u.gradNorm(), b.batchSize(),
                    System.nanoTime() - start);
        }
    }

    /** Checkpoint groups: "student" (encoder and head) and "optimizer". */
    public Map<String, Map<String, NDArray>> tensors() {
        Map<String, Map<String, NDArray>> out = new LinkedHashMap<>();
        out.put("student", student.view());
        out.put("optimizer", optimizer.state());
        return out;
    }

    public Map<String, Long> optimizerCounts() {
        return optimizer.counts();
    }

    /** Continues from saved state. */
    public void restore(Map<String, Map<String, NDArray>> groups, Map<String, Long> optimizerCounts, long stepsDone) {
        for (String g : List.of("student", "optimizer")) {
            if (!groups.containsKey(g)) {
                throw new IllegalArgumentException("a distillation checkpoint has a '" + g + "' group; this one has "
                        + groups.keySet());
            }
        }
        student.load(groups.get("student"));
        optimizer.load(groups.get("optimizer"), optimizerCounts);
        this.step = stepsDone;
    }

    @Override
    public void close() {
        optimizer.close();
        root.close();
    }
}
