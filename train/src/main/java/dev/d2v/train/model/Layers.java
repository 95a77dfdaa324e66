package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;

/**
 * The small functional layers the model is built from, over named parameters. Weight layouts follow PyTorch
 * (Linear weight (out, in), Conv weight (out, in / groups, k...)), so exported tensors load into torch modules as is.
 * Results land in the manager of the input x: call inside the step's scope.
 */
public final class Layers {

    /** LayerNorm epsilon (PyTorch's default, the reference's). */
    public static final float LN_EPS = 1e-5f;

    private Layers() {}

    /** x (..., in) -> (..., out) = x W^T + b; parameters {name}.weight (out, in), {name}.bias (out). */
    public static NDArray linear(Params p, String name, NDArray x) {
        return Linear.linear(x, p.get(name + ".weight"), p.get(name + ".bias")).singletonOrThrow();
    }

    /** LayerNorm over the last axis with {name}.weight and {name}.bias (D). */
    public static NDArray layerNorm(Params p, String name, NDArray x) {
        NDArray g = p.get(name + ".weight");
        return LayerNorm.layerNorm(x, g.getShape(), g, p.get(name + ".bias"), LN_EPS).singletonOrThrow();
    }

    /** LayerNorm over the last axis without affine parameters (decoders, target norm): (x - mean) / sqrt(var + eps). */
    public static NDArray layerNormNoAffine(NDArray x) {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        return centred.div(var.add(LN_EPS).sqrt());
    }

    /** Exact (erf) GELU, as the reference. */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /** Dropout when training and rate > 0, else x itself. */
    public static NDArray dropout(NDArray x, double rate, boolean training) {
        return training && rate > 0 ? Dropout.dropout(x, (float) rate, true).singletonOrThrow() : x;
    }

    /** x (N, Cin, L) -> (N, Cout, L'); {name}.weight (Cout, Cin / groups, k), {name}.bias (Cout). */
    public static NDArray conv1d(Params p, String name, NDArray x, int stride, int padding, int groups) {
        return Conv1d.conv1d(x, p.get(name + ".weight"), p.get(name + ".bias"), new Shape(stride), new Shape(padding),
                new Shape(1), groups).singletonOrThrow();
    }

    /** x (N, Cin, H, W) -> (N, Cout, H', W'); {name}.weight (Cout, Cin / groups, kh, kw), {name}.bias (Cout). */
    public static NDArray conv2d(Params p, String name, NDArray x, Shape stride, Shape padding, int groups) {
        return Conv2d.conv2d(x, p.get(name + ".weight"), p.get(name + ".bias"), stride, padding, new Shape(1, 1), groups)
                .singletonOrThrow();
    }

    // ---- declarations: shapes and initial values of the parameters above ----

    /** Linear in -> out: weight N(0, 0.02^2), bias 0 (the fairseq initialisation). */
    public static void declareLinear(Params p, Init init, String name, int in, int out) {
        p.put(name + ".weight", init.normal(name + ".weight", (long) in * out, Init.LINEAR_STD), out, in);
        p.put(name + ".bias", new float[out], out);
    }

    /** LayerNorm of width d: weight 1, bias 0. */
    public static void declareLayerNorm(Params p, String name, int d) {
        p.put(name + ".weight", Init.constant(d, 1f), d);
        p.put(name + ".bias", new float[d], d);
    }

    /** Conv with kernel dims k: PyTorch's default init, U(+-1 / sqrt(fan_in)) for weight and bias. */
    public static void declareConv(Params p, Init init, String name, int in, int out, int groups, int... k) {
        long fanIn = (long) in / groups;
        long[] shape = new long[2 + k.length];
        shape[0] = out;
        shape[1] = in / groups;
        for (int i = 0; i < k.length; i++) {
            shape[2 + i] = k[i];
            fanIn *= k[i];
        }
        double bound = 1 / Math.sqrt(fanIn);
        p.put(name + ".weight", init.uniform(name + ".weight", new Shape(shape).size(), bound), shape);
        p.put(name + ".bias", init.uniform(name + ".bias", out, bound), out);
    }
}
