package dev.d2v.pipelines.bench;

import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.DecoderConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.mask.Masking;

/**
 * FLOPs of one training step counted from the shapes: matmuls and convolutions only (2 m n k; a conv is a matmul per
 * output position), elementwise ops, norms, softmax, the loss and the optimiser left out. Teacher: one forward (per
 * sample, or per clone in the bench variant). Student: local encoder once per sample, encoder and decoder per clone;
 * forward + backward = 3 x forward.
 */
public final class StepFlops {

    private StepFlops() {}

    /**
     * @param batch           samples B (every one full length: the bench's batches carry no padding)
     * @param maskTokens      the student encodes all T tokens (data2vec 1.0) instead of the visible K
     * @param teacherPerClone the teacher runs on B * M rows instead of B
     */
    public static double perStep(Data2VecConfig config, Modality m, int batch, boolean maskTokens, boolean teacherPerClone) {
        ModalityConfig c = config.modality(m);
        int d = config.model().dim();
        int f = config.model().mlpDim();
        int depth = config.model().depth();                  // prenet + main blocks = the modality's whole encoder
        int t = c.localEncoder().tokens(m);
        int cls = m == Modality.IMAGE ? 1 : 0;
        int clones = c.multiMask();
        long rows = (long) batch * clones;
        int keep = maskTokens ? t : Masking.keepCount(t, c.masking().maskRatio());
        long teacherRows = teacherPerClone ? rows : batch;
        double teacher = localEncoder(m, c.localEncoder(), d, teacherRows) + depth * block(teacherRows, t + cls, d, f);
        double student = localEncoder(m, c.localEncoder(), d, batch) + depth * block(rows, keep + cls, d, f)
                + decoder(c.decoder(), d, rows, t, m == Modality.IMAGE);
        return teacher + 3 * student;
    }

    /** A post-LN block on n sequences of length l: qkv 6 d^2, proj 2 d^2, MLP 4 d f per token; q k^T and a v 4 l d. */
    static double block(long n, long l, long d, long f) {
        return (double) n * l * (8.0 * d * d + 4.0 * d * f + 4.0 * l * d);
    }

    /** The local encoder on n samples (text: an embedding lookup, no FLOPs). */
    static double localEncoder(Modality m, LocalEncoderConfig l, long d, long n) {
        return switch (m) {
            case IMAGE -> (double) n * l.tokens(m) * 2.0 * l.channels() * l.patch() * l.patch() * d;
            case AUDIO -> {
                long ch = l.convChannels();
                long m2 = (l.mels() + 1) / 2;
                long m4 = (m2 + 1) / 2;
                long t = l.tokens(m);
                double conv0 = (double) ch * m2 * t * 2.0 * 9;                 // 1 -> ch, 3x3, stride (2, 2)
                double conv1 = (double) ch * m4 * t * 2.0 * 9 * ch;            // ch -> ch, 3x3, stride (2, 1)
                double proj = (double) t * 2.0 * ch * m4 * d;
                long groups = d % 16 == 0 ? 16 : 1;
                double posConv = 5.0 * t * 2.0 * 19 * (d / groups) * d;        // 5 layers of Conv1d k 19
                yield n * (conv0 + conv1 + proj + posConv);
            }
            case TEXT -> 0;
        };
    }

    /** The decoder on n clone rows of t tokens, with the projection to d. */
    static double decoder(DecoderConfig c, long d, long n, long t, boolean grid) {
        double perToken = 0;
        if (c.convDecoder()) {
            long taps = grid ? (long) c.kernel() * c.kernel() : c.kernel();
            for (int i = 0; i < c.layers(); i++) {
                long in = i == 0 ? d : c.dim();
                perToken += 2.0 * taps * (in / c.groups()) * c.dim();
            }
        } else {
            perToken += 2.0 * d * c.dim();
            perToken += c.layers() * block(1, t, c.dim(), 4L * c.dim()) / t;
        }
        perToken += c.projectionLayers() == 1 ? 2.0 * c.dim() * d : 2.0 * c.dim() * c.dim() + 2.0 * c.dim() * d;
        return perToken * n * t;
    }
}
