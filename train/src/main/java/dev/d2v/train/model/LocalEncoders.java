package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.d2v.train.config.LocalEncoderConfig;

/**
 * The per-modality local encoders (the modality-specific feature encoders of data2vec 2.0): raw batch -> (B, T, D) tokens with
 * positions, layer-normed. The norm is per token, so applying it before the gather of visible tokens is the same as
 * after it. Parameters under "image.", "audio.", "text.".
 */
public final class LocalEncoders {

    /** Audio positional conv: 5 layers of Conv1d k=19, groups 16 (reference conv_pos_depth 5, width 95). */
    static final int POS_CONV_LAYERS = 5;
    static final int POS_CONV_KERNEL = 19;
    static final int POS_CONV_GROUPS = 16;

    private LocalEncoders() {}

    // ---- image: Conv2d patch embedding + fixed 2-D sin-cos ----

    public static void declareImage(Params p, Init init, LocalEncoderConfig c, int dim) {
        int k = c.patch();
        // MAE: Xavier-uniform on the flattened kernel, like a Linear of in = C * k * k
        long in = (long) c.channels() * k * k;
        double bound = Math.sqrt(6.0 / (in + dim));
        p.put("image.patch_embed.weight", init.uniform("image.patch_embed.weight", in * dim, bound), dim, c.channels(), k, k);
        p.put("image.patch_embed.bias", new float[dim], dim);
        Layers.declareLayerNorm(p, "image.embed_norm", dim);
        // one CLS token without position; 1-D, so it gets no weight decay
        p.put("image.cls_token", init.normal("image.cls_token", dim, Init.LINEAR_STD), dim);
    }

    /** x (B, C, H, W) normalised pixels -> (B, T, D), T = (H / p) (W / p), row-major over the patch grid. */
    public static NDArray image(Params p, LocalEncoderConfig c, NDArray x, float[] sinCos) {
        int k = c.patch();
        NDArray e = Layers.conv2d(p, "image.patch_embed", x, new Shape(k, k), new Shape(0, 0), 1); // (B, D, h, w)
        Shape s = e.getShape();
        long t = s.get(2) * s.get(3);
        NDArray tokens = e.reshape(s.get(0), s.get(1), t).transpose(0, 2, 1);                    // (B, T, D)
        NDArray pos = x.getManager().create(sinCos, new Shape(1, t, s.get(1)));
        return Layers.layerNorm(p, "image.embed_norm", tokens.add(pos));
    }

    // ---- audio: Conv2d stack on the log-mel spectrogram, conv positional encoder (ALiBi is in the encoder) ----

    public static void declareAudio(Params p, Init init, LocalEncoderConfig c, int dim, int heads) {
        int ch = c.convChannels();
        Layers.declareConv(p, init, "audio.conv.0", 1, ch, 1, 3, 3);
        Layers.declareConv(p, init, "audio.conv.1", ch, ch, 1, 3, 3);
        int flat = ch * quarter(c.mels());
        Layers.declareLayerNorm(p, "audio.proj_norm", flat);
        Layers.declareLinear(p, init, "audio.proj", flat, dim);
        int groups = posConvGroups(dim);
        for (int i = 0; i < POS_CONV_LAYERS; i++) {
            Layers.declareConv(p, init, "audio.pos_conv." + i, dim, dim, groups, POS_CONV_KERNEL);
        }
        Layers.declareLayerNorm(p, "audio.embed_norm", dim);
        // learned per-head ALiBi scale, starting at 1 (reference learned_alibi_scale)
        p.put("audio.alibi_scale", Init.constant(heads, 1f), heads);
    }

    /**
     * x (B, 1, mels, F) -> (B, ceil(F / 2), D): conv 3x3 stride (2, 2), GELU, conv 3x3 stride (2, 1), GELU collapse
     * frequency to ceil(mels / 4) rows and halve time; channels x rows are flattened, normed and projected to D; then
     * x + PosConv(x).
     */
    public static NDArray audio(Params p, NDArray x) {
        NDArray h = Layers.gelu(Layers.conv2d(p, "audio.conv.0", x, new Shape(2, 2), new Shape(1, 1), 1));
        h = Layers.gelu(Layers.conv2d(p, "audio.conv.1", h, new Shape(2, 1), new Shape(1, 1), 1)); // (B, C, m4, T)
        Shape s = h.getShape();
        NDArray flat = h.transpose(0, 3, 1, 2).reshape(s.get(0), s.get(3), s.get(1) * s.get(2));    // (B, T, C m4)
        NDArray e = Layers.linear(p, "audio.proj", Layers.layerNorm(p, "audio.proj_norm", flat));   // (B, T, D)
        NDArray y = e.transpose(0, 2, 1);                                                           // (B, D, T)
        int groups = posConvGroups((int) e.getShape().get(2));
        for (int i = 0; i < POS_CONV_LAYERS; i++) {
            y = Layers.conv1d(p, "audio.pos_conv." + i, y, 1, POS_CONV_KERNEL / 2, groups);
            y = Layers.gelu(Layers.layerNormNoAffine(y.transpose(0, 2, 1)).transpose(0, 2, 1));
        }
        return Layers.layerNorm(p, "audio.embed_norm", e.add(y.transpose(0, 2, 1)));
    }

    static int quarter(int mels) {
        return ((mels + 1) / 2 + 1) / 2;
    }

    static int posConvGroups(int dim) {
        return dim % POS_CONV_GROUPS == 0 ? POS_CONV_GROUPS : 1;
    }

    // ---- text: token embedding + learned positions + LayerNorm ----

    public static void declareText(Params p, Init init, LocalEncoderConfig c, int dim) {
        double tokenStd = c.tokenInitStd() > 0 ? c.tokenInitStd() : Init.LINEAR_STD;   // 0: a config before the field
        double positionStd = c.positionInitStd() > 0 ? c.positionInitStd() : Init.LINEAR_STD;
        p.put("text.token_embed.weight", init.normal("text.token_embed.weight", (long) c.vocabSize() * dim, tokenStd),
                c.vocabSize(), dim);
        p.put("text.pos_embed.weight", init.normal("text.pos_embed.weight", (long) c.maxLength() * dim, positionStd),
                c.maxLength(), dim);
        Layers.declareLayerNorm(p, "text.embed_norm", dim);
    }

    /** ids (B, L) int64 -> (B, L, D). */
    public static NDArray text(Params p, NDArray ids) {
        long len = ids.getShape().get(1);
        NDArray tok = Embedding.embedding(ids, p.get("text.token_embed.weight"), SparseFormat.DENSE).singletonOrThrow();
        NDArray table = p.get("text.pos_embed.weight");
        if (len > table.getShape().get(0)) {
            throw new IllegalArgumentException("text block of " + len + " tokens exceeds max_length " + table.getShape().get(0));
        }
        NDArray pos = table.get(new NDIndex(":{}", len)).expandDims(0);                              // (1, L, D)
        return Layers.layerNorm(p, "text.embed_norm", tok.add(pos));
    }
}
