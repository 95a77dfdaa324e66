package dev.d2v.export.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Layers;
import dev.d2v.train.model.Positions;
import dev.d2v.train.model.Readout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One modality's student encoder as an ONNX graph, node for node the computation of {@link Data2VecModel#features}
 * (local encoder, prenet and main blocks, no mask, no dropout), from the checkpoint's named weights.
 *
 * <p>Inputs are the minibatch tensors as the preprocessing writes them, with {@code batch} and, for audio and text,
 * the sequence length symbolic:
 * <ul>
 *   <li>image: {@code pixels} uint8 (batch, C, H, W), mapped to [-1, 1] inside the graph as the trainer does;</li>
 *   <li>audio: {@code log_mel} float (batch, frames, mels) and {@code lengths} int64 (batch), the real frames of each
 *       row (padding beyond them is masked out of attention and pooling, as in training);</li>
 *   <li>text: {@code ids} int64 (batch, length) and {@code lengths} int64 (batch), the real tokens of each row.</li>
 * </ul>
 * Outputs: {@code tokens} (batch, T, D), the last block's output per token (the image CLS slot dropped);
 * {@code pooled} (batch, D), its mean over the real tokens ({@link Readout#LAST}); {@code layers} (batch, (1 + k) D),
 * the pooled local encoder and top k blocks ({@link Readout#LAYERS}, the linear probe's features).
 */
public final class EncoderGraph {

    /** Named fp32 weights with their shapes (PyTorch layouts: Linear (out, in), Conv (out, in / groups, k...)). */
    public interface Weights {
        float[] values(String name);

        long[] shape(String name);

        boolean has(String name);
    }

    /** Added to the attention scores of padded keys (the trainer's value). */
    private static final float EXCLUDED = 1e9f;

    private final Data2VecConfig config;
    private final Modality modality;
    private final Weights w;
    private final OnnxGraph g;
    private final int dim;
    private final int heads;
    private final boolean int8;
    private String ones;

    private EncoderGraph(Data2VecConfig config, Modality modality, Weights w, boolean int8) {
        this.config = config;
        this.modality = modality;
        this.w = w;
        this.int8 = int8;
        this.g = new OnnxGraph("d2v_" + modality.id() + "_encoder");
        this.dim = config.model().dim();
        this.heads = config.model().heads();
    }

    /** The graph of modality m's encoder with these weights; metadata goes into the model's metadata_props. */
    public static ModelProto build(Data2VecConfig config, Modality m, Weights weights, String producerVersion,
                                   Map<String, String> metadata) {
        return build(config, m, weights, false, producerVersion, metadata);
    }

    /**
     * {@link #build}, dynamically quantized when int8: every weight MatMul (attention qkv and projection, MLP, audio's
     * projection) becomes DynamicQuantizeLinear of the activations (uint8, per tensor, at run time) and MatMulInteger
     * with the weights quantized per output column (int8, symmetric), then rescaled to fp32, the form ONNX Runtime
     * fuses into its quantized MatMul kernels; the text token table is stored int8 per row and dequantized after the
     * lookup. Convolutions, LayerNorm, attention scores and softmax stay fp32.
     */
    public static ModelProto build(Data2VecConfig config, Modality m, Weights weights, boolean int8,
                                   String producerVersion, Map<String, String> metadata) {
        if (config.modality(m) == null) {
            throw new IllegalArgumentException("the model has no " + m.id() + " encoder");
        }
        EncoderGraph e = new EncoderGraph(config, m, weights, int8);
        e.encoder();
        return e.g.model(producerVersion, metadata);
    }

    private void encoder() {
        ModalityConfig c = config.modality(modality);
        LocalEncoderConfig l = c.localEncoder();
        String tokens;
        String validMask = null;      // (B, T) float, 1 at real tokens
        String bias = null;           // (1, H, T, T) ALiBi
        switch (modality) {
            case IMAGE -> tokens = image(l);
            case AUDIO -> {
                String mel = g.input("log_mel", OnnxGraph.FLOAT, "batch", "frames", (long) l.mels());
                String lengths = g.input("lengths", OnnxGraph.INT64, "batch");
                tokens = audio(mel);
                // real tokens: ceil(frames / 2), at least 1 (LocalEncoderConfig.AudioFrames)
                String valid = g.op("Max", g.op("Div", g.op("Add", lengths, g.scalarInt(1)), g.scalarInt(2)), g.scalarInt(1));
                validMask = validMask(tokens, valid);
                bias = alibi(tokens);
            }
            case TEXT -> {
                String ids = g.input("ids", OnnxGraph.INT64, "batch", "length");
                String lengths = g.input("lengths", OnnxGraph.INT64, "batch");
                tokens = text(ids);
                validMask = validMask(tokens, g.op("Max", lengths, g.scalarInt(1)));
            }
            default -> throw new IllegalStateException();
        }
        boolean cls = modality == Modality.IMAGE;
        String x = tokens;
        if (cls) {
            String token = g.floats("image.cls_token", w.values("image.cls_token"), 1, 1, dim);
            String b = g.op("Slice", g.op("Shape", tokens), g.ints(0), g.ints(1), g.ints(0));
            String shape = g.op("Concat", Map.of("axis", 0L), b, g.ints(1, dim));
            x = g.op("Concat", Map.of("axis", 1L), g.op("Expand", token, shape), tokens);
        }
        String keyMask = validMask == null ? null
                // (B, 1, 1, T): 0 where the key is real, -1e9 at padding
                : g.op("Mul", g.op("Sub", g.op("Unsqueeze", validMask, g.ints(1, 2)), g.scalar(1f)), g.scalar(EXCLUDED));
        for (int i = 0; i < c.prenetDepth(); i++) {
            x = block(modality.id() + ".prenet." + i, x, bias, keyMask);
        }
        List<String> outputs = new ArrayList<>();
        outputs.add(cls ? dropFirst(x) : x);
        Data2VecModel model = new Data2VecModel(config);
        int main = model.mainBlocks(modality);
        for (int i = 0; i < main; i++) {
            x = block(model.trunkBlock(modality, i), x, bias, keyMask);
            outputs.add(cls ? dropFirst(x) : x);
        }
        String last = outputs.get(outputs.size() - 1);
        String weights = validMask == null ? null : g.op("Unsqueeze", validMask, g.ints(2));     // (B, T, 1)
        List<String> pooled = new ArrayList<>();
        pooled.add(pool(outputs.get(0), weights));
        int top = Readout.LAYERS.blocks(main);
        for (String o : outputs.subList(outputs.size() - top, outputs.size())) {
            pooled.add(pool(o, weights));
        }
        Object t = modality == Modality.IMAGE ? (Object) (long) tokensPerImage(l) : "tokens";
        g.output(last, "tokens", OnnxGraph.FLOAT, "batch", t, (long) dim);
        g.output(pooled.get(pooled.size() - 1), "pooled", OnnxGraph.FLOAT, "batch", (long) dim);
        g.output(g.op("Concat", Map.of("axis", 1L), pooled.toArray(String[]::new)), "layers", OnnxGraph.FLOAT,
                "batch", (long) Readout.LAYERS.dim(dim, main));
    }

    private static int tokensPerImage(LocalEncoderConfig l) {
        return (l.height() / l.patch()) * (l.width() / l.patch());
    }

    // ---- local encoders (LocalEncoders) ----

    private String image(LocalEncoderConfig l) {
        String px = g.input("pixels", OnnxGraph.UINT8, "batch", (long) l.channels(), (long) l.height(), (long) l.width());
        // (x / 255 - 0.5) / 0.5, as the trainer maps pixels
        String x = g.op("Div", g.op("Sub", g.op("Div", g.op("Cast", Map.of("to", (long) OnnxGraph.FLOAT), px),
                g.scalar(255f)), g.scalar(0.5f)), g.scalar(0.5f));
        int k = l.patch();
        String e = conv("image.patch_embed", x, new long[] {k, k}, new long[] {0, 0, 0, 0}, 1);           // (B, D, h, w)
        String tokens = g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), g.op("Reshape", e, g.ints(0, 0, -1)));
        int rows = l.height() / k;
        int cols = l.width() / k;
        String pos = g.floats("image.pos_embed", Positions.sinCos2d(dim, rows, cols), 1, (long) rows * cols, dim);
        return layerNorm("image.embed_norm", g.op("Add", tokens, pos));
    }

    private String audio(String mel) {
        String x = g.op("Unsqueeze", g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), mel), g.ints(1));  // (B,1,mels,F)
        String h = gelu(conv("audio.conv.0", x, new long[] {2, 2}, new long[] {1, 1, 1, 1}, 1));
        h = gelu(conv("audio.conv.1", h, new long[] {2, 1}, new long[] {1, 1, 1, 1}, 1));                   // (B, C, m4, T)
        String flat = g.op("Reshape", g.op("Transpose", Map.of("perm", new long[] {0, 3, 1, 2}), h), g.ints(0, 0, -1));
        String e = linear("audio.proj", layerNorm("audio.proj_norm", flat));                               // (B, T, D)
        String y = g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), e);                             // (B, D, T)
        long[] first = w.shape("audio.pos_conv.0.weight");                                                // (D, D / groups, k)
        long groups = dim / first[1];
        long kernel = first[2];
        for (int i = 0; w.has("audio.pos_conv." + i + ".weight"); i++) {
            y = conv("audio.pos_conv." + i, y, new long[] {1}, new long[] {kernel / 2, kernel / 2}, groups);
            String t = gelu(layerNormNoAffine(g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), y)));
            y = g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), t);
        }
        return layerNorm("audio.embed_norm", g.op("Add", e, g.op("Transpose", Map.of("perm", new long[] {0, 2, 1}), y)));
    }

    private String text(String ids) {
        String tok;
        long[] shape = w.shape("text.token_embed.weight");
        if (int8) {
            Int8.Quantized q = Int8.perRow(w.values("text.token_embed.weight"), (int) shape[0], (int) shape[1]);
            String table = g.int8s("text.token_embed.weight_q", q.values(), shape[0], shape[1]);
            String scales = g.floats("text.token_embed.scale", q.scales(), shape[0], 1);
            tok = g.op("Mul", g.op("Cast", Map.of("to", (long) OnnxGraph.FLOAT), g.op("Gather", Map.of("axis", 0L), table, ids)),
                    g.op("Gather", Map.of("axis", 0L), scales, ids));
        } else {
            String table = g.floats("text.token_embed.weight", w.values("text.token_embed.weight"), shape);
            tok = g.op("Gather", Map.of("axis", 0L), table, ids);                                         // (B, L, D)
        }
        String posTable = g.floats("text.pos_embed.weight", w.values("text.pos_embed.weight"),
                w.shape("text.pos_embed.weight"));
        String len = g.op("Slice", g.op("Shape", ids), g.ints(1), g.ints(2), g.ints(0));
        String pos = g.op("Slice", posTable, g.ints(0), len, g.ints(0));                                   // (L, D)
        return layerNorm("text.embed_norm", g.op("Add", tok, g.op("Unsqueeze", pos, g.ints(0))));
    }

    /** (B, T) float: 1 for t < valid[b]. */
    private String validMask(String tokens, String valid) {
        String range = positions(tokens, OnnxGraph.INT64);                                                  // (T)
        String less = g.op("Less", g.op("Unsqueeze", range, g.ints(0)), g.op("Unsqueeze", valid, g.ints(1)));
        return g.op("Cast", Map.of("to", (long) OnnxGraph.FLOAT), less);
    }

    /** 0 .. T - 1 for tokens (B, T, D), as int64 or float. */
    private String positions(String tokens, int type) {
        String t = g.op("Squeeze", g.op("Slice", g.op("Shape", tokens), g.ints(1), g.ints(2), g.ints(0)), g.ints(0));
        String range = g.op("Range", g.scalarInt(0), t, g.scalarInt(1));
        return type == OnnxGraph.INT64 ? range : g.op("Cast", Map.of("to", (long) type), range);
    }

    /** ALiBi (Positions.alibi) on the full axis: (1, H, T, T) = -|i - j| slope[h] scale[h]. */
    private String alibi(String tokens) {
        String pos = positions(tokens, OnnxGraph.FLOAT);
        String distance = g.op("Neg", g.op("Abs", g.op("Sub", g.op("Unsqueeze", pos, g.ints(1)),
                g.op("Unsqueeze", pos, g.ints(0)))));                                                      // (T, T)
        String slopes = g.floats("audio.alibi_slopes", Positions.alibiSlopes(heads), heads);
        String scale = g.floats("audio.alibi_scale", w.values("audio.alibi_scale"), heads);
        String perHead = g.op("Reshape", g.op("Mul", slopes, scale), g.ints(1, heads, 1, 1));
        return g.op("Mul", g.op("Unsqueeze", distance, g.ints(0, 1)), perHead);
    }

    // ---- blocks (Block, Attention) ----

    private String block(String name, String x, String bias, String keyMask) {
        String a = attention(name + ".attn", x, bias, keyMask);
        String h = layerNorm(name + ".norm1", g.op("Add", x, a));
        String f = linear(name + ".mlp.fc2", gelu(linear(name + ".mlp.fc1", h)));
        return layerNorm(name + ".norm2", g.op("Add", h, f));
    }

    private String attention(String name, String x, String bias, String keyMask) {
        long hd = dim / heads;
        String qkv = g.op("Transpose", Map.of("perm", new long[] {2, 0, 3, 1, 4}),
                g.op("Reshape", linear(name + ".qkv", x), g.ints(0, 0, 3, heads, hd)));                    // (3, N, H, T, hd)
        String[] parts = g.opN("Split", 3, Map.of("axis", 0L), qkv);
        String q = g.op("Squeeze", parts[0], g.ints(0));
        String k = g.op("Squeeze", parts[1], g.ints(0));
        String v = g.op("Squeeze", parts[2], g.ints(0));
        String scores = g.op("Mul", g.op("MatMul", q, g.op("Transpose", Map.of("perm", new long[] {0, 1, 3, 2}), k)),
                g.scalar((float) (1.0 / Math.sqrt(hd))));
        if (bias != null) {
            scores = g.op("Add", scores, bias);
        }
        if (keyMask != null) {
            scores = g.op("Add", scores, keyMask);
        }
        String o = g.op("MatMul", g.op("Softmax", Map.of("axis", -1L), scores), v);                         // (N, H, T, hd)
        String merged = g.op("Reshape", g.op("Transpose", Map.of("perm", new long[] {0, 2, 1, 3}), o), g.ints(0, 0, dim));
        return linear(name + ".proj", merged);
    }

    // ---- layers (Layers) ----

    /** x W^T + b, W stored transposed for MatMul. */
    private String linear(String name, String x) {
        long[] s = w.shape(name + ".weight");
        float[] wt = transpose(w.values(name + ".weight"), (int) s[0], (int) s[1]);
        String bias = g.floats(name + ".bias", w.values(name + ".bias"), s[0]);
        if (int8) {
            Int8.Quantized q = Int8.perColumn(wt, (int) s[1], (int) s[0]);
            String weight = g.int8s(name + ".weight_q", q.values(), s[1], s[0]);
            String scale = g.floats(name + ".weight_scale", q.scales(), s[0]);
            String zero = g.int8s(name + ".weight_zero", new byte[(int) s[0]], s[0]);
            String[] xq = g.opN("DynamicQuantizeLinear", 3, Map.of(), x);      // uint8 x, its scale and zero point
            String acc = g.op("MatMulInteger", xq[0], weight, xq[2], zero);   // int32
            String rescaled = g.op("Mul", g.op("Cast", Map.of("to", (long) OnnxGraph.FLOAT), acc), g.op("Mul", xq[1], scale));
            return g.op("Add", rescaled, bias);
        }
        String weight = g.floats(name + ".weight_t", wt, s[1], s[0]);
        return g.op("Add", g.op("MatMul", x, weight), bias);
    }

    private String layerNorm(String name, String x) {
        long d = w.shape(name + ".weight")[0];
        return g.op("LayerNormalization", Map.of("axis", -1L, "epsilon", Layers.LN_EPS), x,
                g.floats(name + ".weight", w.values(name + ".weight"), d), g.floats(name + ".bias", w.values(name + ".bias"), d));
    }

    /** LayerNorm without affine parameters: a scale of ones, one initializer shared by every such norm. */
    private String layerNormNoAffine(String x) {
        if (ones == null) {
            float[] v = new float[dim];
            Arrays.fill(v, 1f);
            ones = g.floats("ones_" + dim, v, dim);
        }
        return g.op("LayerNormalization", Map.of("axis", -1L, "epsilon", Layers.LN_EPS), x, ones);
    }

    /** Exact GELU: x / 2 (1 + erf(x / sqrt 2)). */
    private String gelu(String x) {
        String erf = g.op("Erf", g.op("Div", x, g.scalar((float) Math.sqrt(2))));
        return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.scalar(1f))), g.scalar(0.5f));
    }

    private String conv(String name, String x, long[] strides, long[] pads, long groups) {
        long[] s = w.shape(name + ".weight");
        String weight = g.floats(name + ".weight", w.values(name + ".weight"), s);
        String bias = g.floats(name + ".bias", w.values(name + ".bias"), s[0]);
        return g.op("Conv", Map.of("strides", strides, "pads", pads, "group", groups), x, weight, bias);
    }

    private String dropFirst(String x) {
        return g.op("Slice", x, g.ints(1), g.ints(Long.MAX_VALUE), g.ints(1));
    }

    /** Mean over the tokens (B, T, D) -> (B, D), over the real ones where weights (B, T, 1) marks them. */
    private String pool(String x, String weights) {
        if (weights == null) {
            return g.op("ReduceMean", Map.of("axes", new long[] {1}, "keepdims", 0L), x);
        }
        String sum = g.op("ReduceSum", Map.of("keepdims", 0L), g.op("Mul", x, weights), g.ints(1));
        String count = g.op("Max", g.op("ReduceSum", Map.of("keepdims", 0L), weights, g.ints(1)), g.scalar(1f));
        return g.op("Div", sum, count);
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
