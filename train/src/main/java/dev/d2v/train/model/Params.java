package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Named parameters of a model, owned by one manager. Insertion order is the canonical order (checkpoints, exports,
 * the optimiser). The names are the stable tensor names of the safetensors export (train/TRAIN.md lists them).
 *
 * <p>The forward functions read parameters by name; they do not own them. Run every forward inside an
 * {@link ai.djl.ndarray.NDScope}: ops whose left operand is a parameter (a transpose, an embedding lookup) put their
 * result in this manager, and the scope is what frees them.
 */
public final class Params implements AutoCloseable {

    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();

    public Params(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    public NDManager manager() {
        return manager;
    }

    /** Adds a parameter; the array moves to this store's manager. */
    public NDArray put(String name, NDArray a) {
        if (arrays.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " exists already");
        }
        a.attach(manager);
        NDScope.unregister(a); // a parameter outlives any step scope it was created in
        a.setName(name);
        arrays.put(name, a);
        return a;
    }

    /** Adds a parameter from flat fp32 values. */
    public NDArray put(String name, float[] values, long... shape) {
        return put(name, manager.create(values, new Shape(shape)));
    }

    public NDArray get(String name) {
        NDArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return a;
    }

    public boolean has(String name) {
        return arrays.containsKey(name);
    }

    /** Read-only view in canonical order. */
    public Map<String, NDArray> view() {
        return Collections.unmodifiableMap(arrays);
    }

    public int size() {
        return arrays.size();
    }

    /** Total number of scalars. */
    public long count() {
        long n = 0;
        for (NDArray a : arrays.values()) {
            n += a.size();
        }
        return n;
    }

    /** Turns gradient tracking on (student) or off (teacher, evaluation) for every parameter. */
    public void requireGradients(boolean on) {
        for (NDArray a : arrays.values()) {
            a.setRequiresGradient(on);
        }
    }

    /** A deep fp32 copy of the parameters whose names pass the filter, in a new store under parent. */
    public Params copy(Predicate<String> names, NDManager parent) {
        Params out = new Params(parent);
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            if (names.test(e.getKey())) {
                // duplicate(), not toType(FLOAT32, true): on an fp32 array DJL's PyTorch toType returns an alias
                NDArray c = e.getValue().duplicate().toType(DataType.FLOAT32, false);
                out.put(e.getKey(), c.toDevice(out.manager.getDevice(), false));
            }
        }
        return out;
    }

    /** Overwrites every parameter in place with the same-named array of src (shapes must match). */
    public void load(Map<String, NDArray> src) {
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            NDArray s = src.get(e.getKey());
            if (s == null) {
                throw new IllegalArgumentException("missing parameter " + e.getKey());
            }
            if (!s.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " has shape " + s.getShape()
                        + ", the model needs " + e.getValue().getShape());
            }
            copyInto(e.getValue(), s.toDevice(e.getValue().getDevice(), false).toType(DataType.FLOAT32, false));
        }
    }

    /**
     * target[...] = source, in place (an index_put over the whole array), with autograd off on this thread for the
     * copy: a parameter that requires gradients may be overwritten in place only outside the graph, as an optimizer
     * step does. NDArray.set(Buffer) would do the same through a deprecated libtorch guard whose warning reaches the
     * terminal.
     */
    public static void copyInto(NDArray target, NDArray source) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            target.set(new NDIndex("..."), source);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
