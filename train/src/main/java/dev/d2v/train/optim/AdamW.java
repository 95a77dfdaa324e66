package dev.d2v.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.d2v.train.config.OptimConfig;
import dev.d2v.train.model.Params;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * AdamW (decoupled weight decay, Loshchilov and Hutter) with the project's parameter groups (no decay on biases,
 * norms, 1-D parameters: {@link WeightDecayRule}) and global gradient-norm clipping. Written here rather than taken
 * from DJL because its state (moments and per-parameter step counts) must go into checkpoints, and because a
 * multimodal step updates only the parameters that modality used.
 *
 * <p>All updates are in place; temporaries land in the gradients' manager, so call {@link #step} inside an NDScope.
 */
public final class AdamW implements AutoCloseable {

    /** Adam epsilon (reference adam_eps 1e-6). */
    public static final double EPS = 1e-6;

    private final OptimConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> m1 = new LinkedHashMap<>();
    private final Map<String, NDArray> m2 = new LinkedHashMap<>();
    private final Map<String, Long> counts = new HashMap<>();

    public AdamW(OptimConfig config, NDManager parent) {
        this.config = config;
        this.manager = parent.newSubManager();
    }

    /** The result of one update: the gradient norm before clipping, and whether it was applied. */
    public record Update(double gradNorm, boolean applied) {}

    /**
     * One update of the parameters selected by used, from their gradients, at learning rate lr. A non-finite gradient
     * norm skips the update (the gradients are still cleared).
     */
    public Update step(Params params, Predicate<String> used, double lr) {
        return step(params, used, name -> lr);
    }

    /**
     * {@link #step(Params, Predicate, double)} with a learning rate per parameter (fine-tuning: a lower rate for the
     * encoder than for the head, layer-wise decay). Clipping stays global over all the selected gradients.
     */
    public Update step(Params params, Predicate<String> used, ToDoubleFunction<String> lrOf) {
        List<String> names = new ArrayList<>();
        List<NDArray> grads = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : params.view().entrySet()) {
            if (used.test(e.getKey())) {
                names.add(e.getKey());
                grads.add(e.getValue().getGradient());
            }
        }
        double norm = globalNorm(grads);
        boolean finite = Double.isFinite(norm);
        if (finite) {
            double clip = config.clipGradNorm() > 0 && norm > config.clipGradNorm() ? config.clipGradNorm() / (norm + 1e-6) : 1.0;
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                NDArray p = params.get(name);
                update(name, p, grads.get(i), lrOf.applyAsDouble(name), clip, WeightDecayRule.decayFor(name, p.getShape(), config.weightDecay()));
            }
        }
        for (String name : names) {
            zeroGradient(params.get(name));
        }
        return new Update(norm, finite);
    }

    /** One parameter: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr (wd p + m^ / (sqrt(v^) + eps)). */
    private void update(String name, NDArray p, NDArray g, double lr, double clip, double wd) {
        NDArray m = m1.computeIfAbsent(name, k -> state(k, p));
        NDArray v = m2.computeIfAbsent(name, k -> state(k, p));
        long t = counts.merge(name, 1L, Long::sum);
        double b1 = config.beta1();
        double b2 = config.beta2();
        m.muli(b1).addi(g.mul((1 - b1) * clip));
        v.muli(b2).addi(g.square().muli((1 - b2) * clip * clip));
        double bc1 = 1 - Math.pow(b1, t);
        double bc2 = 1 - Math.pow(b2, t);
        if (wd > 0) {
            p.muli(1 - lr * wd);
        }
        NDArray denom = v.sqrt().divi(Math.sqrt(bc2)).addi(EPS);
        p.subi(m.div(denom).muli(lr / bc1));
    }

    private NDArray state(String name, NDArray p) {
        NDArray z = manager.zeros(p.getShape(), DataType.FLOAT32, p.getDevice());
        NDScope.unregister(z); // created during a step, lives as long as the optimiser
        z.setName(name);
        return z;
    }

    /** sqrt(sum of squared gradient entries), one device sync. */
    static double globalNorm(List<NDArray> grads) {
        if (grads.isEmpty()) {
            return 0;
        }
        NDList squares = new NDList();
        for (NDArray g : grads) {
            squares.add(g.square().sum());
        }
        return Math.sqrt(NDArrays.stack(squares).sum().toType(DataType.FLOAT64, false).getDouble());
    }

    /**
     * Clears a parameter's gradient in place, NaN included (torch's zero_ on .grad). DJL's API has no such call
     * (NDArray.set on the gradient view writes through to the parameter itself), so this goes to the engine.
     */
    static void zeroGradient(NDArray param) {
        JniUtils.zeroGrad((PtNDArray) param);
    }

    // ---- state for checkpoints: "m/<name>", "v/<name>" (fp32, parameter shape) and "t/<name>" (0-d int64) ----

    /** The moments and step counts, named for a checkpoint's optimizer group (arrays owned by this optimiser). */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : m1.entrySet()) {
            String name = e.getKey();
            out.put("m/" + name, e.getValue());
            out.put("v/" + name, m2.get(name));
        }
        return out;
    }

    /** Per-parameter update counts (bias correction). */
    public Map<String, Long> counts() {
        return Map.copyOf(counts);
    }

    /** Replaces the state with a checkpoint's (arrays are copied into this optimiser's manager). */
    public void load(Map<String, NDArray> state, Map<String, Long> stepCounts) {
        clear();
        for (Map.Entry<String, NDArray> e : state.entrySet()) {
            String key = e.getKey();
            NDArray copy = e.getValue().duplicate().toType(DataType.FLOAT32, false); // toType(same, true) aliases
            copy.attach(manager);
            NDScope.unregister(copy);
            if (key.startsWith("m/")) {
                copy.setName(key.substring(2));
                m1.put(key.substring(2), copy);
            } else if (key.startsWith("v/")) {
                copy.setName(key.substring(2));
                m2.put(key.substring(2), copy);
            } else {
                throw new IllegalArgumentException("unknown optimizer state entry " + key);
            }
        }
        if (!m1.keySet().equals(m2.keySet())) {
            throw new IllegalArgumentException("optimizer state has first moments for " + m1.keySet() + " but second for " + m2.keySet());
        }
        counts.putAll(stepCounts);
    }

    private void clear() {
        m1.values().forEach(NDArray::close);
        m2.values().forEach(NDArray::close);
        m1.clear();
        m2.clear();
        counts.clear();
    }

    @Override
    public void close() {
        manager.close();
    }
}
