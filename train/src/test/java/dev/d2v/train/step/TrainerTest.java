package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LocalEncoderConfig;
import org.junit.jupiter.api.Test;

class TrainerTest {

    static Data2VecConfig small() {
        Data2VecConfig c = Data2VecConfig.cpu();
        c = c.with(Modality.AUDIO, c.audio().withLocalEncoder(LocalEncoderConfig.audio(16, 40, 8)));
        return c.with(Modality.TEXT, c.text().withLocalEncoder(LocalEncoderConfig.text(100, 32)));
    }

    @Test
    void everyModalityTrainsWithFiniteLoss() {
        try (Trainer t = new Trainer(small(), Device.cpu(), 7)) {
            for (int i = 0; i < 3; i++) {
                StepResult r = t.step(SyntheticBatches.image(8, 1, 28, i));
                System.out.println(r);
                assertThat(r.applied()).isTrue();
                assertThat(r.loss()).isFinite().isPositive();
                StepResult a = t.step(SyntheticBatches.audio(4, 40, 16, i));
                System.out.println(a);
                assertThat(a.loss()).isFinite().isPositive();
                StepResult x = t.step(SyntheticBatches.text(4, 32, 100, i));
                System.out.println(x);
                assertThat(x.loss()).isFinite().isPositive();
            }
            assertThat(t.step()).isEqualTo(9);
        }
    }
}
