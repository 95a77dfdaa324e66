package dev.d2v.train.run;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import dev.d2v.train.config.ModalityConfig;
import java.util.Collection;

/**
 * The model's input side follows the preprocessing: image channels and size, audio mels and frames, text vocabulary
 * size and block length come from the transforms (one source of truth), the patch size and conv widths from the
 * preset.
 */
public final class ModelFit {

    private ModelFit() {}

    /** The preset restricted to the given modalities, each local encoder shaped like the transforms' output. */
    public static Data2VecConfig fit(Data2VecConfig preset, Collection<Modality> modalities, Transforms t, Vocabulary vocab) {
        Data2VecConfig c = preset.restrictTo(modalities);
        for (Modality m : modalities) {
            ModalityConfig mc = c.modality(m);
            LocalEncoderConfig l = mc.localEncoder();
            LocalEncoderConfig fitted = switch (m) {
                case IMAGE -> LocalEncoderConfig.image(t.image().channels(), t.image().size(), l.patch());
                case AUDIO -> LocalEncoderConfig.audio(t.audio().mels(), t.audio().frames(), l.convChannels());
                case TEXT -> LocalEncoderConfig.text(vocab == null ? l.vocabSize() : vocab.size(),
                        t.text().blockLength()).withTextInit(l.tokenInitStd(), l.positionInitStd());
            };
            c = c.with(m, mc.withLocalEncoder(fitted));
        }
        return c;
    }
}
