package dev.d2v.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.mask.MaskBatch;
import dev.d2v.train.targets.Targets;
import dev.d2v.train.tensor.Tokens;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The data2vec 2.0 network as functions over {@link Params}: one shared trunk of post-LN blocks ("blocks.{i}"; with
 * {@code model.shared_trunk = false} one trunk per modality, "{m}.blocks.{i}"), per modality a local encoder, optional
 * prenet blocks ("{m}.prenet.{i}") and a decoder ("{m}.decoder"). Student and
 * teacher run the same code with different parameters; the teacher has no decoder.
 *
 * <p>Stages of a data2vec 2.0 step (Baevski et al. 2022): {@link #embed} (local encoder + positions), the mask (gather of visible tokens),
 * {@link #encode} (CLS, blocks), restore, decode; {@link #targets} for the teacher; {@link #features} for probes.
 * Every method must run inside an NDScope (see Params).
 */
public final class Data2VecModel {

    private final Data2VecConfig config;
    private final int trunkDepth;
    private final float[] imagePositions;
    private final float[] alibiSlopes;

    public Data2VecModel(Data2VecConfig config) {
        this.config = config;
        int minPrenet = Integer.MAX_VALUE;
        for (Modality m : config.modalities()) {
            minPrenet = Math.min(minPrenet, config.modality(m).prenetDepth());
        }
        this.trunkDepth = config.model().depth() - minPrenet;
        ModalityConfig image = config.image();
        this.imagePositions = image == null ? null : Positions.sinCos2d(config.model().dim(),
                image.localEncoder().gridRows(), image.localEncoder().width() / image.localEncoder().patch());
        this.alibiSlopes = Positions.alibiSlopes(config.model().heads());
    }

    public Data2VecConfig config() {
        return config;
    }

    /** Blocks of the shared trunk: depth minus the smallest prenet among the trained modalities. */
    public int trunkDepth() {
        return trunkDepth;
    }

    /** All student parameters, initialised from seed, in canonical order: trunk, then each modality. */
    public Params declare(NDManager parent, long seed) {
        Init init = new Init(seed);
        Params p = new Params(parent);
        int dim = config.model().dim();
        if (config.model().sharedTrunk()) {
            for (int i = 0; i < trunkDepth; i++) {
                Block.declare(p, init, "blocks." + i, dim, config.model().mlpDim());
            }
        }
        for (Modality m : config.modalities()) {
            ModalityConfig c = config.modality(m);
            if (!config.model().sharedTrunk()) {
                for (int i = 0; i < mainBlocks(m); i++) {
                    Block.declare(p, init, trunkBlock(m, i), dim, config.model().mlpDim());
                }
            }
            switch (m) {
                case IMAGE -> LocalEncoders.declareImage(p, init, c.localEncoder(), dim);
                case AUDIO -> LocalEncoders.declareAudio(p, init, c.localEncoder(), dim, config.model().heads());
                case TEXT -> LocalEncoders.declareText(p, init, c.localEncoder(), dim);
            }
            for (int i = 0; i < c.prenetDepth(); i++) {
                Block.declare(p, init, m.id() + ".prenet." + i, dim, config.model().mlpDim());
            }
            Decoders.declare(p, init, m.id() + ".decoder", c.decoder(), dim, m == Modality.IMAGE);
            if (c.loss().seqLossWeight() > 0) {
                Layers.declareLinear(p, init, pooledHead(m), dim, dim);
            }
        }
        return p;
    }

    /**
     * The student's head for the pooled loss (LossConfig#seqLossWeight), (D, D): a student-only prediction head like
     * the decoder, hence under its name.
     */
    public static String pooledHead(Modality m) {
        return m.id() + ".decoder.pooled";
    }

    /** The teacher copies everything but the decoders (and the pooled head under them). */
    public static boolean inTeacher(String name) {
        return !name.contains(".decoder.");
    }

    /**
     * Parameters that a step on modality m reads (and updates): its own (its trunk too, when not shared), and the
     * shared trunk blocks it runs through.
     */
    public Predicate<String> usedBy(Modality m) {
        int main = mainBlocks(m);
        String own = m.id() + ".";
        return name -> name.startsWith(own) || (name.startsWith("blocks.") && blockIndex(name) < main);
    }

    /** Name of main block i on modality m's path: "blocks.{i}", or "{m}.blocks.{i}" when each has its own trunk. */
    public String trunkBlock(Modality m, int i) {
        return (config.model().sharedTrunk() ? "" : m.id() + ".") + "blocks." + i;
    }

    private static int blockIndex(String name) {
        int end = name.indexOf('.', 7);
        return Integer.parseInt(name.substring(7, end));
    }

    public int mainBlocks(Modality m) {
        return config.model().depth() - config.modality(m).prenetDepth();
    }

    // ---- shapes ----

    /** Tokens per example of modality m for an input batch of this shape. */
    public int tokens(Modality m, Shape input) {
        LocalEncoderConfig l = config.modality(m).localEncoder();
        return switch (m) {
            case IMAGE -> (int) (input.get(2) / l.patch() * (input.get(3) / l.patch()));
            case AUDIO -> LocalEncoderConfig.AudioFrames.tokens((int) input.get(3));
            case TEXT -> (int) input.get(1);
        };
    }

    /** Rows of the token grid: the patch rows for images, 1 for sequences. */
    public int gridRows(Modality m, Shape input) {
        return m == Modality.IMAGE ? (int) (input.get(2) / config.image().localEncoder().patch()) : 1;
    }

    // ---- stages ----

    /**
     * Local encoder + positions + embedding norm: input -> (B, T, D).
     * image (B, C, H, W) normalised floats; audio (B, 1, mels, frames) log-mel; text (B, L) int64 ids.
     */
    public NDArray embed(Params p, Modality m, NDArray input) {
        return switch (m) {
            case IMAGE -> LocalEncoders.image(p, config.image().localEncoder(), input, imagePositions);
            case AUDIO -> LocalEncoders.audio(p, input);
            case TEXT -> LocalEncoders.text(p, input);
        };
    }

    /**
     * Encoder output without the CLS slot, the CLS output (image), the FFN outputs of the main blocks (teacher), and,
     * without the CLS slot, the main blocks' input followed by each main block's output (probe readouts; empty unless
     * asked for).
     */
    public record Encoded(NDArray x, NDArray cls, List<NDArray> ffn, List<NDArray> layers) {}

    /**
     * tokens (N, K, D) -> prenet and main blocks.
     *
     * @param positions (N, K) or (1, K) float positions on the full axis, for ALiBi (audio); ignored otherwise
     * @param keyValid  (N, K) boolean, false at padding; null when nothing is padded
     * @param collect   keep the main blocks' FFN outputs (teacher)
     */
    public Encoded encode(Params p, Modality m, NDArray tokens, NDArray positions, NDArray keyValid, boolean training,
                          boolean collect) {
        return encode(p, m, tokens, positions, keyValid, training, collect, false);
    }

    /** {@link #encode}, also keeping the block outputs when {@code layers} (the probes' {@link Readout#LAYERS}). */
    public Encoded encode(Params p, Modality m, NDArray tokens, NDArray positions, NDArray keyValid, boolean training,
                          boolean collect, boolean layers) {
        int heads = config.model().heads();
        double dropout = config.model().dropout();
        boolean cls = m == Modality.IMAGE;
        NDArray x = tokens;
        NDArray valid = keyValid;
        if (cls) {
            Shape s = tokens.getShape();
            NDArray token = p.get("image.cls_token").reshape(1, 1, s.get(2)).broadcast(s.get(0), 1, s.get(2));
            x = NDArrays.concat(new NDList(token, x), 1);
            if (valid != null) {                                   // the CLS slot is always a valid key
                valid = NDArrays.concat(new NDList(valid.getManager().ones(new Shape(s.get(0), 1), DataType.BOOLEAN), valid), 1);
            }
        }
        NDArray valid4 = valid == null ? null : valid.reshape(valid.getShape().get(0), 1, 1, valid.getShape().get(1));
        x = Layers.dropout(x, dropout, training);
        NDArray bias = m == Modality.AUDIO
                ? Positions.alibi(positions, tokens.getManager().create(alibiSlopes), p.get("audio.alibi_scale"))
                : null;
        for (int i = 0; i < config.modality(m).prenetDepth(); i++) {
            x = Block.forward(p, m.id() + ".prenet." + i, x, heads, bias, valid4, dropout, training).x();
        }
        List<NDArray> ffn = new ArrayList<>();
        List<NDArray> outputs = new ArrayList<>();
        if (layers) {
            outputs.add(cls ? dropFirst(x) : x);
        }
        for (int i = 0; i < mainBlocks(m); i++) {
            Block.Out o = Block.forward(p, trunkBlock(m, i), x, heads, bias, valid4, dropout, training);
            x = o.x();
            if (collect) {
                ffn.add(cls ? dropFirst(o.ffn()) : o.ffn());
            }
            if (layers) {
                outputs.add(cls ? dropFirst(x) : x);
            }
        }
        if (cls) {
            return new Encoded(dropFirst(x), x.get(new NDIndex(":, 0, :")), ffn, outputs);
        }
        return new Encoded(x, null, ffn, outputs);
    }

    private static NDArray dropFirst(NDArray x) {
        return x.get(new NDIndex(":, 1:, :"));
    }

    /**
     * Student predictions at all T slots of every clone, the CLS output (image), and the pooled head's output on each
     * clone's mean-pooled visible tokens (null unless the modality has a pooled loss).
     */
    public record StudentOut(NDArray prediction, NDArray cls, NDArray pooled) {

        public StudentOut(NDArray prediction, NDArray cls) {
            this(prediction, cls, null);
        }
    }

    /**
     * The student on one batch: repeat each sample M times, gather the visible tokens, encode, restore with
     * N(0, 0.01^2) at masked slots, decode.
     *
     * @param embedded (B, T, D) from {@link #embed}
     * @return prediction (B * M, T, D); cls (B * M, D) or null
     */
    public StudentOut student(Params p, Modality m, NDArray embedded, MaskBatch mask, int gridRows, boolean training) {
        return student(p, m, embedded, mask, gridRows, training, Tokens.MASK_NOISE_STD);
    }

    /**
     * {@link #student} with the restore's noise std given (0: zeros at masked slots, for exact comparisons). Rows that
     * keep fewer tokens than the widest are padded in the visible tensor (N, K, D); those slots are excluded as keys,
     * as the reference excludes padding among the unmasked tokens ({@code gather_unmasked_mask}), and the restore
     * never reads them, so each row's prediction is the one it would get alone.
     */
    public StudentOut student(Params p, Modality m, NDArray embedded, MaskBatch mask, int gridRows, boolean training,
                              float noiseStd) {
        ModalityConfig c = config.modality(m);
        NDManager scope = embedded.getManager();
        NDArray x = Tokens.repeatInterleave(embedded, c.multiMask());
        NDArray idsKeep = Tokens.indices(scope, mask.idsKeep());
        NDArray visible = Tokens.gatherVisible(x, idsKeep);                                   // (N, K, D)
        NDArray keyValid = mask.uniform() ? null : validMask(scope, mask.keep(), mask.maxKeep());   // (N, K)
        NDArray positions = m == Modality.AUDIO ? idsKeep.toType(DataType.FLOAT32, false) : null;
        Encoded e = encode(p, m, visible, positions, keyValid, training, false);
        NDArray z = Tokens.restore(e.x(), Tokens.indices(scope, mask.idsRestore()), mask.fillWidth(), noiseStd);
        NDArray prediction = Decoders.forward(p, m.id() + ".decoder", c.decoder(), z, gridRows, m == Modality.IMAGE);
        NDArray pooled = null;
        if (c.loss().seqLossWeight() > 0) {
            pooled = Layers.linear(p, pooledHead(m), pool(e.x(), poolWeights(keyValid)));      // (N, D)
        }
        return new StudentOut(prediction, e.cls(), pooled);
    }

    /**
     * What the teacher gives a step: the per-token targets (B, T, D), and, for a modality with a pooled loss, its last
     * block mean-pooled over the real tokens and standardised per channel over the batch (B, D), else null (also for
     * a batch of one row, which has no spread to standardise).
     */
    public record TeacherOut(NDArray targets, NDArray pooled) {}

    /**
     * Teacher targets on the clean, unmasked batch (call with gradients off): (B, T, D).
     *
     * @param validTokens (B) real tokens per example, or null when nothing is padded
     */
    public NDArray targets(Params teacher, Modality m, NDArray input, int[] validTokens) {
        return teacher(teacher, m, input, validTokens).targets();
    }

    /** {@link #targets}, with the pooled target when the modality has a pooled loss (call with gradients off). */
    public TeacherOut teacher(Params teacher, Modality m, NDArray input, int[] validTokens) {
        NDArray tokens = embed(teacher, m, input);
        long b = tokens.getShape().get(0);
        long t = tokens.getShape().get(1);
        NDArray keyValid = validTokens == null ? null : validMask(tokens.getManager(), validTokens, t);
        NDArray positions = m == Modality.AUDIO ? tokens.getManager().arange(0f, (float) t).reshape(1, t) : null;
        Encoded e = encode(teacher, m, tokens, positions, keyValid, false, true);
        List<NDArray> ffn = e.ffn();
        int k = config.modality(m).targets().averageTopKLayers();
        NDArray valid = poolWeights(keyValid);
        NDArray targets = Targets.build(ffn.subList(ffn.size() - k, ffn.size()), valid, config.modality(m).targets());
        NDArray pooled = config.modality(m).loss().seqLossWeight() > 0 && b > 1     // one row has no spread
                ? Targets.standardiseOverBatch(pool(e.x(), valid)) : null;
        return new TeacherOut(targets, pooled);
    }

    /**
     * The last block's output on the full input (no mask, no dropout), per token: (B, T, D); the padded tokens are
     * masked out of attention, not out of the output.
     */
    public NDArray lastBlock(Params p, Modality m, NDArray input, int[] validTokens) {
        NDArray tokens = embed(p, m, input);
        long t = tokens.getShape().get(1);
        NDArray keyValid = validTokens == null ? null : validMask(tokens.getManager(), validTokens, t);
        NDArray positions = m == Modality.AUDIO ? tokens.getManager().arange(0f, (float) t).reshape(1, t) : null;
        return encode(p, m, tokens, positions, keyValid, false, false).x();
    }

    /** Scalars of modality m's encoder in {@code params} (local encoder, prenet, trunk; no decoder, nothing else). */
    public long encoderParameters(Map<String, NDArray> params, Modality m) {
        Predicate<String> used = usedBy(m);
        return params.entrySet().stream().filter(e -> used.test(e.getKey()) && inTeacher(e.getKey()))
                .mapToLong(e -> e.getValue().size()).sum();
    }

    /**
     * Probe features: the encoder's output on the full input (no mask, no dropout), mean-pooled over the real tokens
     * (CLS excluded): (B, D).
     */
    public NDArray features(Params p, Modality m, NDArray input, int[] validTokens) {
        return features(p, m, input, validTokens, false);
    }

    /**
     * {@link #features} with dropout when training (fine-tuning runs the encoder in training mode): (B, D).
     */
    public NDArray features(Params p, Modality m, NDArray input, int[] validTokens, boolean training) {
        return features(p, m, input, validTokens, Readout.LAST, training);
    }

    /**
     * Probe features of a readout, no dropout: (B, {@link Readout#dim}). {@link Readout#LAYERS} concatenates, in
     * order, the pooled local encoder output (after the prenet blocks, as the trunk reads it) and the pooled outputs of
     * the top main blocks.
     */
    public NDArray features(Params p, Modality m, NDArray input, int[] validTokens, Readout readout) {
        return features(p, m, input, validTokens, readout, false);
    }

    private NDArray features(Params p, Modality m, NDArray input, int[] validTokens, Readout readout, boolean training) {
        NDArray tokens = embed(p, m, input);
        long t = tokens.getShape().get(1);
        NDArray keyValid = validTokens == null ? null : validMask(tokens.getManager(), validTokens, t);
        NDArray positions = m == Modality.AUDIO ? tokens.getManager().arange(0f, (float) t).reshape(1, t) : null;
        boolean layers = readout == Readout.LAYERS;
        Encoded e = encode(p, m, tokens, positions, keyValid, training, false, layers);
        NDArray w = poolWeights(keyValid);
        if (!layers) {
            return pool(e.x(), w);
        }
        List<NDArray> outputs = e.layers();
        int top = readout.blocks(outputs.size() - 1);
        NDList pooled = new NDList(pool(outputs.get(0), w));
        for (NDArray o : outputs.subList(outputs.size() - top, outputs.size())) {
            pooled.add(pool(o, w));
        }
        return NDArrays.concat(pooled, 1);
    }

    /** keyValid (B, T) boolean as the weights that {@link #pool} and the targets take: (B, T, 1) 1.0 / 0.0, or null. */
    static NDArray poolWeights(NDArray keyValid) {
        if (keyValid == null) {
            return null;
        }
        Shape s = keyValid.getShape();
        return keyValid.toType(DataType.FLOAT32, false).reshape(s.get(0), s.get(1), 1);
    }

    /** Mean over the tokens, over the real ones where w (B, T, 1) marks them. */
    public static NDArray pool(NDArray x, NDArray w) {
        if (w == null) {
            return x.mean(new int[] {1});
        }
        return x.mul(w).sum(new int[] {1}).div(w.sum(new int[] {1}).maximum(1f));
    }

    /** (B, T) boolean: true for t < validTokens[b]. */
    public static NDArray validMask(NDManager manager, int[] validTokens, long t) {
        boolean[] flat = new boolean[Math.toIntExact(validTokens.length * t)];
        for (int b = 0; b < validTokens.length; b++) {
            for (int i = 0; i < Math.min(t, validTokens[b]); i++) {
                flat[(int) (b * t + i)] = true;
            }
        }
        return manager.create(flat, new Shape(validTokens.length, t));
    }
}
