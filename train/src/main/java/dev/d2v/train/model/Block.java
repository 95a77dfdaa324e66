package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * One post-LN transformer block (the data2vec 2.0 encoder block): x = LN1(x + Attn(x)); f = MLP(x); x = LN2(x + f).
 * Fused qkv with bias, exact GELU. Parameters under {name}: attn.qkv, attn.proj, norm1, mlp.fc1, mlp.fc2, norm2.
 */
public final class Block {

    private Block() {}

    /** The block output and its FFN output f (before residual and norm2): the teacher's target source. */
    public record Out(NDArray x, NDArray ffn) {}

    public static void declare(Params p, Init init, String name, int dim, int mlpDim) {
        Layers.declareLinear(p, init, name + ".attn.qkv", dim, 3 * dim);
        Layers.declareLinear(p, init, name + ".attn.proj", dim, dim);
        Layers.declareLayerNorm(p, name + ".norm1", dim);
        Layers.declareLinear(p, init, name + ".mlp.fc1", dim, mlpDim);
        Layers.declareLinear(p, init, name + ".mlp.fc2", mlpDim, dim);
        Layers.declareLayerNorm(p, name + ".norm2", dim);
    }

    /**
     * @param x        (N, T, D)
     * @param bias     attention bias broadcastable to (N, H, T, T), or null
     * @param keyValid (N, 1, 1, T) boolean, or null when every token is real
     */
    public static Out forward(Params p, String name, NDArray x, int heads, NDArray bias, NDArray keyValid,
                              double dropout, boolean training) {
        NDArray a = Layers.dropout(selfAttention(p, name + ".attn", x, heads, bias, keyValid), dropout, training);
        NDArray h = Layers.layerNorm(p, name + ".norm1", x.add(a));
        NDArray f = Layers.linear(p, name + ".mlp.fc2", Layers.gelu(Layers.linear(p, name + ".mlp.fc1", h)));
        NDArray out = Layers.layerNorm(p, name + ".norm2", h.add(Layers.dropout(f, dropout, training)));
        return new Out(out, f);
    }

    /** x (N, T, D) -> (N, T, D): fused qkv, H heads, output projection. */
    static NDArray selfAttention(Params p, String name, NDArray x, int heads, NDArray bias, NDArray keyValid) {
        Shape s = x.getShape();
        long n = s.get(0);
        long t = s.get(1);
        long d = s.get(2);
        NDArray qkv = Layers.linear(p, name + ".qkv", x)
                .reshape(n, t, 3, heads, d / heads)
                .transpose(2, 0, 3, 1, 4);                       // (3, N, H, T, hd)
        NDList parts = qkv.split(3, 0);
        NDArray q = parts.get(0).squeeze(0);
        NDArray k = parts.get(1).squeeze(0);
        NDArray v = parts.get(2).squeeze(0);
        NDArray o = Attention.scaledDotProduct(q, k, v, bias, keyValid)   // (N, H, T, hd)
                .transpose(0, 2, 1, 3)
                .reshape(n, t, d);
        return Layers.linear(p, name + ".proj", o);
    }
}
