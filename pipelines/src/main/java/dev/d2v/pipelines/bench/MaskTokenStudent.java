package dev.d2v.pipelines.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.mask.MaskBatch;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Decoders;
import dev.d2v.train.model.Init;
import dev.d2v.train.model.Params;
import dev.d2v.train.step.StepStrategy;
import dev.d2v.train.tensor.Tokens;

/**
 * The data2vec 1.0 student, for the inverse-masking speed comparison only: every clone encodes all T tokens, the
 * masked ones replaced by a learned mask token "{m}.mask_emb" (D, student only), padding still excluded as keys; the
 * decoder reads the encoder output directly (nothing to restore). data2vec 2.0 encodes the visible tokens alone.
 */
public final class MaskTokenStudent implements StepStrategy {

    /** The mask token of modality m (D). */
    public static String maskEmbeddingName(Modality m) {
        return m.id() + ".mask_emb";
    }

    /** N(0, 0.02^2) per modality, seeded by name like every other parameter. */
    @Override
    public void declareStudentOnly(Data2VecModel model, Params student, long seed) {
        int dim = model.config().model().dim();
        for (Modality m : model.config().modalities()) {
            String name = maskEmbeddingName(m);
            student.put(name, new Init(seed).normal(name, dim, Init.LINEAR_STD), dim);
        }
    }

    /** @return prediction (B * M, T, D); cls (B * M, D) or null */
    @Override
    public Data2VecModel.StudentOut student(Data2VecModel model, Params p, Modality m, NDArray embedded, MaskBatch mask,
                                            int gridRows) {
        ModalityConfig c = model.config().modality(m);
        NDManager scope = embedded.getManager();
        NDArray x = Tokens.repeatInterleave(embedded, c.multiMask());                         // (N, T, D)
        long n = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray masked = Tokens.mask(scope, mask.masked()).toType(DataType.FLOAT32, false).reshape(n, t, 1);
        NDArray emb = p.get(maskEmbeddingName(m)).reshape(1, 1, -1);                          // (1, 1, D)
        NDArray tokens = x.mul(masked.neg().add(1f)).add(masked.mul(emb));                   // (N, T, D)
        boolean[][] valid = new boolean[(int) n][(int) t];                                    // padding = masked, not in the loss
        boolean padded = false;
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < t; i++) {
                valid[r][i] = !mask.masked()[r][i] || mask.lossMask()[r][i];
                padded |= !valid[r][i];
            }
        }
        NDArray keyValid = padded ? Tokens.mask(scope, valid) : null;
        NDArray positions = m == Modality.AUDIO ? scope.arange(0f, (float) t).reshape(1, t) : null;
        Data2VecModel.Encoded e = model.encode(p, m, tokens, positions, keyValid, true, false);
        NDArray prediction = Decoders.forward(p, m.id() + ".decoder", c.decoder(), e.x(), gridRows, m == Modality.IMAGE);
        return new Data2VecModel.StudentOut(prediction, e.cls());
    }
}
