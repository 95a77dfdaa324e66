package dev.d2v.train.step;

import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.DecoderConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.config.ModelConfig;
import dev.d2v.train.config.TargetConfig;

/** Models small enough for exact checks: D 32, two blocks, 8x8 images, 16 mels x 24 frames, 16-token texts. */
public final class TinyConfigs {

    private TinyConfigs() {}

    public static Data2VecConfig tiny() {
        Data2VecConfig c = Data2VecConfig.cpu();
        DecoderConfig decoder = new DecoderConfig(true, 16, 1, 3, 4, true, 1);
        return new Data2VecConfig(new ModelConfig(32, 2, 2, 2.0, 0.0),
                shrink(c.image(), LocalEncoderConfig.image(1, 8, 2), decoder, Modality.IMAGE),
                shrink(c.audio(), LocalEncoderConfig.audio(16, 24, 8), decoder, Modality.AUDIO),
                shrink(c.text(), LocalEncoderConfig.text(50, 16), decoder, Modality.TEXT),
                c.ema(), c.optim(), c.collapseGuard());
    }

    private static ModalityConfig shrink(ModalityConfig m, LocalEncoderConfig l, DecoderConfig d, Modality modality) {
        ModalityConfig out = m.withLocalEncoder(l).withDecoder(d).withMultiMask(2);
        return new ModalityConfig(out.prenetDepth(), out.masking(), out.multiMask(), out.decoder(),
                TargetConfig.reference(modality, 2), out.loss(), out.localEncoder());
    }
}
