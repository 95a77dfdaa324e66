package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * Everything one modality adds to the shared encoder.
 *
 * @param prenetDepth  leading blocks that belong to this modality's prenet (image base: 2); targets come from the
 *                     main blocks after them
 * @param multiMask    clones M of each sample, each with its own mask (reference clone_batch); the teacher runs once
 * @param localEncoder the input side: image size and patch, audio mels and frames, text vocabulary and length
 * @param lrScale      this modality's steps use the schedule's learning rate times this factor (absent: 1): the
 *                     continuous trainer sets it from the modality's batch size ({@link LrScaling}), so that a modality with smaller batches takes proportionally smaller steps
 * @param lr           this modality's peak learning rate, where the recipe wants another than the optimiser's
 *                     {@code optim.lr} (null: that one; {@code --set image.lr=6e-3} sets it): its steps follow the
 *                     same warm-up and cosine schedule scaled to this peak, then times {@code lr_scale}. The reference pretrains each modality with its own
 *                     rate (fairseq examples/data2vec: 1e-3 for images, 7.5e-4 for speech, 2e-4 for text at base
 *                     size); one optimiser rate for all cannot give each the rate it needs
 * @param packRows     text only: a training step packs the batch's texts one after another into as few rows of the
 *                     batch's width as they fit ({@code step.RowPacking}), as the reference pretrains on the corpus cut
 *                     into full blocks (fairseq masked_lm, sample_break_mode none) instead of one padded row per text
 *                     (absent: false). Evaluation always encodes one text per row
 * @param embedLrScale text only: the token embedding table ({@code text.token_embed.weight}) trains at this multiple
 *                     of the modality's rate (absent: 1). A step touches only the rows of the tokens in its batch, and
 *                     Adam moves a row by about the rate per update whatever its gradient, so a row that appears in a
 *                     few batches barely leaves its random init in a few hundred steps; a larger rate for the table
 *                     (as sparse embedding tables are usually trained) lets it learn within a short run
 */
public record ModalityConfig(
        @JsonProperty("prenet_depth") int prenetDepth,
        MaskingConfig masking,
        @JsonProperty("multi_mask") @JsonAlias({"clone_batch"}) int multiMask,
        DecoderConfig decoder,
        TargetConfig targets,
        LossConfig loss,
        @JsonProperty("local_encoder") LocalEncoderConfig localEncoder,
        @JsonProperty("lr_scale") Double lrScale,
        @JsonProperty("pack_rows") Boolean packRows,
        @JsonProperty("embed_lr_scale") Double embedLrScale,
        @JsonProperty("lr") @JsonInclude(JsonInclude.Include.ALWAYS) Double lr) {

    @JsonCreator
    public ModalityConfig {
        require(prenetDepth >= 0, "prenet_depth must be >= 0, got " + prenetDepth);
        require(masking != null && decoder != null && targets != null && loss != null,
                "a modality needs masking, decoder, targets and loss sections");
        require(multiMask >= 1, "multi_mask must be >= 1, got " + multiMask);
        require(localEncoder != null, "a modality needs a local_encoder section");
        lrScale = lrScale == null ? 1.0 : lrScale;   // checkpoints written before the field existed
        require(lrScale > 0 && !lrScale.isInfinite(), "lr_scale must be a finite number > 0, got " + lrScale);
        packRows = packRows != null && packRows;       // absent in checkpoints written before the field existed
        embedLrScale = embedLrScale == null ? 1.0 : embedLrScale;
        require(embedLrScale > 0 && !embedLrScale.isInfinite(), "embed_lr_scale must be a finite number > 0, got "
                + embedLrScale);
        require(lr == null || (lr > 0 && !lr.isInfinite()), "lr must be a finite number > 0 or absent, got " + lr);
    }

    /** A section at learning-rate scale 1. */
    public ModalityConfig(int prenetDepth, MaskingConfig masking, int multiMask, DecoderConfig decoder,
                          TargetConfig targets, LossConfig loss, LocalEncoderConfig localEncoder) {
        this(prenetDepth, masking, multiMask, decoder, targets, loss, localEncoder, 1.0, false, 1.0, null);
    }

    /** The reference values (fairseq examples/data2vec) for modality m on an encoder of the given width and depth. */
    public static ModalityConfig reference(Modality m, ModelConfig model, int prenetDepth, int multiMask) {
        int main = model.depth() - prenetDepth;
        return new ModalityConfig(prenetDepth, MaskingConfig.reference(m), multiMask,
                DecoderConfig.reference(m, model.dim()), TargetConfig.reference(m, main), LossConfig.reference(m),
                LocalEncoderConfig.reference(m));
    }

    /** This section with another local encoder (the pretrain command fits it to the data: vocabulary size, frames). */
    public ModalityConfig withLocalEncoder(LocalEncoderConfig l) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, loss,
                l, lrScale, packRows, embedLrScale, lr);
    }

    /** This section with other prenet blocks and teacher targets (a shallower model: distillation's student). */
    public ModalityConfig withPrenetAndTargets(int prenet, TargetConfig t) {
        return new ModalityConfig(prenet, masking, multiMask, decoder, t, loss, localEncoder, lrScale, packRows,
                embedLrScale, lr);
    }

    /** This section with another decoder (conv or transformer, for the speed comparison). */
    public ModalityConfig withDecoder(DecoderConfig d) {
        return new ModalityConfig(prenetDepth, masking, multiMask, d, targets, loss,
                localEncoder, lrScale, packRows, embedLrScale, lr);
    }

    /** This section with another loss. */
    public ModalityConfig withLoss(LossConfig l) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, l,
                localEncoder, lrScale, packRows, embedLrScale, lr);
    }

    /** This section with another mask setting. */
    public ModalityConfig withMasking(MaskingConfig mc) {
        return new ModalityConfig(prenetDepth, mc, multiMask, decoder, targets, loss,
                localEncoder, lrScale, packRows, embedLrScale, lr);
    }

    /** This section with M clones per sample. */
    public ModalityConfig withMultiMask(int m) {
        return new ModalityConfig(prenetDepth, masking, m, decoder, targets, loss,
                localEncoder, lrScale, packRows, embedLrScale, lr);
    }

    /** This section with its steps' learning rate scaled by f. */
    public ModalityConfig withLrScale(double f) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, loss,
                localEncoder, f, packRows, embedLrScale, lr);
    }

    /** This section with its token table's rate at f times the modality's. */
    public ModalityConfig withEmbedLrScale(double f) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, loss,
                localEncoder, lrScale, packRows, f, lr);
    }

    /** This section with text rows packed (or not) in training steps. */
    public ModalityConfig withPackRows(boolean pack) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, loss,
                localEncoder, lrScale, pack, embedLrScale, lr);
    }

    /** This section with its own peak learning rate (null: the optimiser's). */
    public ModalityConfig withLr(Double peak) {
        return new ModalityConfig(prenetDepth, masking, multiMask, decoder, targets, loss,
                localEncoder, lrScale, packRows, embedLrScale, peak);
    }

    /**
     * The factor on the optimiser's schedule for this modality's steps: its own peak over the optimiser's
     * ({@code lr}, 1 when absent) times {@code lr_scale}.
     */
    public double lrFactor(OptimConfig optim) {
        return (lr == null ? 1.0 : lr / optim.lr()) * lrScale;
    }

    /** Reference clone counts: 16 image, 8 audio and text. */
    public static int referenceMultiMask(Modality m) {
        return m == Modality.IMAGE ? 16 : 8;
    }
}
