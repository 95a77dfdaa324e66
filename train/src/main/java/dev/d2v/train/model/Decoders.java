package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.d2v.train.config.DecoderConfig;

/**
 * Student-only decoders (the data2vec 2.0 lightweight decoder), parameters under {name} = "{modality}.decoder".
 * Conv: layers of Conv (k, padding k/2, groups) -> LayerNorm without affine -> GELU, a residual where widths match,
 * then a projection to D; Conv2d on the patch grid for images, Conv1d on sequences.
 * Transformer (conv_decoder false, for the speed comparison): Linear to the decoder width, fixed sin-cos positions,
 * post-LN blocks, the same projection.
 */
public final class Decoders {

    private Decoders() {}

    /**
     * @param grid true: Conv2d (image); false: Conv1d
     */
    public static void declare(Params p, Init init, String name, DecoderConfig c, int dim, boolean grid) {
        if (c.convDecoder()) {
            if (dim % c.groups() != 0) {
                throw new IllegalArgumentException(name + ": model dim " + dim + " must be a multiple of decoder.groups " + c.groups());
            }
            for (int i = 0; i < c.layers(); i++) {
                int in = i == 0 ? dim : c.dim();
                if (grid) {
                    Layers.declareConv(p, init, name + ".blocks." + i + ".conv", in, c.dim(), c.groups(), c.kernel(), c.kernel());
                } else {
                    Layers.declareConv(p, init, name + ".blocks." + i + ".conv", in, c.dim(), c.groups(), c.kernel());
                }
            }
        } else {
            Layers.declareLinear(p, init, name + ".in_proj", dim, c.dim());
            for (int i = 0; i < c.layers(); i++) {
                Block.declare(p, init, name + ".blocks." + i, c.dim(), 4 * c.dim());
            }
        }
        if (c.projectionLayers() == 1) {
            Layers.declareLinear(p, init, name + ".proj", c.dim(), dim);
        } else {
            Layers.declareLinear(p, init, name + ".proj.0", c.dim(), c.dim());
            Layers.declareLinear(p, init, name + ".proj.1", c.dim(), dim);
        }
    }

    /**
     * z (N, T, D) (visible encoder outputs restored to their slots, noise at masked ones) -> predictions (N, T, D).
     *
     * @param gridRows rows of the patch grid for Conv2d / 2-D positions; 1 for sequences
     */
    public static NDArray forward(Params p, String name, DecoderConfig c, NDArray z, int gridRows, boolean grid) {
        NDArray h = c.convDecoder() ? convStack(p, name, c, z, gridRows, grid) : transformerStack(p, name, c, z, gridRows, grid);
        if (c.projectionLayers() == 1) {
            return Layers.linear(p, name + ".proj", h);
        }
        return Layers.linear(p, name + ".proj.1", Layers.gelu(Layers.linear(p, name + ".proj.0", h)));
    }

    /** (N, T, D) -> (N, T, dec). */
    static NDArray convStack(Params p, String name, DecoderConfig c, NDArray z, int gridRows, boolean grid) {
        Shape s = z.getShape();
        long n = s.get(0);
        long t = s.get(1);
        NDArray x = z.transpose(0, 2, 1);                                       // (N, D, T)
        if (grid) {
            x = x.reshape(n, s.get(2), gridRows, t / gridRows);                 // (N, D, rows, cols)
        }
        int pad = c.kernel() / 2;
        for (int i = 0; i < c.layers(); i++) {
            String conv = name + ".blocks." + i + ".conv";
            NDArray y = grid
                    ? Layers.conv2d(p, conv, x, new Shape(1, 1), new Shape(pad, pad), c.groups())
                    : Layers.conv1d(p, conv, x, 1, pad, c.groups());
            y = Layers.gelu(channelNorm(y));
            boolean sameWidth = y.getShape().get(1) == x.getShape().get(1);
            x = c.residual() && sameWidth ? y.add(x) : y;
        }
        return x.reshape(n, c.dim(), t).transpose(0, 2, 1);
    }

    /** LayerNorm without affine over the channel axis 1 of (N, C, ...). */
    static NDArray channelNorm(NDArray y) {
        int rank = y.getShape().dimension();
        int[] toLast = new int[rank];
        int[] back = new int[rank];
        toLast[0] = 0;
        for (int i = 1; i < rank - 1; i++) {
            toLast[i] = i + 1;
        }
        toLast[rank - 1] = 1;
        back[0] = 0;
        back[1] = rank - 1;
        for (int i = 2; i < rank; i++) {
            back[i] = i - 1;
        }
        return Layers.layerNormNoAffine(y.transpose(toLast)).transpose(back);
    }

    static NDArray transformerStack(Params p, String name, DecoderConfig c, NDArray z, int gridRows, boolean grid) {
        long t = z.getShape().get(1);
        float[] table = grid ? Positions.sinCos2d(c.dim(), gridRows, (int) t / gridRows) : Positions.sinCos1d(c.dim(), (int) t);
        NDArray x = Layers.linear(p, name + ".in_proj", z).add(z.getManager().create(table, new Shape(1, t, c.dim())));
        int heads = heads(c.dim());
        for (int i = 0; i < c.layers(); i++) {
            x = Block.forward(p, name + ".blocks." + i, x, heads, null, null, 0, false).x();
        }
        return x;
    }

    /** Heads of the transformer decoder: head width 32 where it divides, else a single head. */
    static int heads(int dim) {
        return dim % 32 == 0 ? dim / 32 : 1;
    }
}
