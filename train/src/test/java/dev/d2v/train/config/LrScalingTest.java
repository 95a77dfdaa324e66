package dev.d2v.train.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.infra.Modality;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LrScalingTest {

    private static final Map<Modality, Integer> SEED_BATCHES = Map.of(Modality.IMAGE, 256, Modality.AUDIO, 128,
            Modality.TEXT, 64);

    @Test
    void linearScalingAgainstTheLargestBatchGivesTheSeedsRates() {
        Data2VecConfig c = LrScaling.LINEAR.apply(Data2VecConfig.cpu(), SEED_BATCHES, 0);
        // lr * batch / 256: vision 1.5e-4 * 256 / 256, audio 1.5e-4 * 128 / 256, text 1.5e-4 * 64 / 256
        assertThat(c.image().lrScale()).isEqualTo(1.0);
        assertThat(c.audio().lrScale()).isEqualTo(0.5);
        assertThat(c.text().lrScale()).isEqualTo(0.25);
        assertThat(c.optim()).isEqualTo(Data2VecConfig.cpu().optim());   // the schedule itself is untouched
    }

    @Test
    void sqrtNoneAndAnExplicitReference() {
        Data2VecConfig sqrt = LrScaling.SQRT.apply(Data2VecConfig.cpu(), SEED_BATCHES, 0);
        assertThat(sqrt.text().lrScale()).isCloseTo(0.5, within(1e-12));
        Data2VecConfig none = LrScaling.NONE.apply(Data2VecConfig.cpu(), SEED_BATCHES, 0);
        assertThat(none.audio().lrScale()).isEqualTo(1.0);
        Data2VecConfig ref = LrScaling.LINEAR.apply(Data2VecConfig.cpu(), SEED_BATCHES, 128);
        assertThat(ref.image().lrScale()).isEqualTo(2.0);
        assertThat(ref.audio().lrScale()).isEqualTo(1.0);
        // only the trained modalities count for the largest batch
        Data2VecConfig audioText = LrScaling.LINEAR.apply(Data2VecConfig.cpu().restrictTo(
                List.of(Modality.AUDIO, Modality.TEXT)), SEED_BATCHES, 0);
        assertThat(audioText.audio().lrScale()).isEqualTo(1.0);
        assertThat(audioText.text().lrScale()).isEqualTo(0.5);
    }

    @Test
    void theScaleTravelsInTheConfigJsonAndOldConfigsReadAsOne() {
        Data2VecConfig c = LrScaling.LINEAR.apply(Data2VecConfig.cpu(), SEED_BATCHES, 0);
        String json = c.toJson();
        assertThat(json).contains("\"lr_scale\":0.25");
        assertThat(Data2VecConfig.fromJson(json)).isEqualTo(c);
        Data2VecConfig old = Data2VecConfig.fromJson(json.replaceAll(",?\"lr_scale\":[0-9.]+", ""));
        assertThat(old.text().lrScale()).isEqualTo(1.0);
    }

    @Test
    void aModalitysOwnPeakRateTravelsInTheJsonAndAnOverrideSetsIt() {
        Data2VecConfig c = Data2VecConfig.cpu();
        assertThat(c.toJson()).contains("\"lr\":null");
        assertThat(c.image().lr()).as("the cpu preset's images").isEqualTo(6e-3);
        assertThat(c.withOverrides(List.of("audio.lr=1e-3"))).isEqualTo(c.with(Modality.AUDIO, c.audio().withLr(1e-3)));
        Data2VecConfig none = c.with(Modality.IMAGE, c.image().withLr(null));
        assertThat(Data2VecConfig.fromJson(none.toJson().replace("\"lr\":null,", "").replace(",\"lr\":null", "")))
                .as("a config written before the field existed").isEqualTo(none);
        Data2VecConfig own = c.with(Modality.TEXT, c.text().withLr(1e-3));
        assertThat(own.toJson()).contains("\"lr\":0.001");
        assertThat(Data2VecConfig.fromJson(own.toJson())).isEqualTo(own);
        assertThat(own.text().lrFactor(own.optim())).isCloseTo(1e-3 / c.optim().lr(), within(1e-12));
        assertThat(own.audio().lrFactor(own.optim())).isEqualTo(1.0);
        assertThatThrownBy(() -> c.image().withLr(-1.0)).hasMessageContaining("lr must be");
    }

    @Test
    void badInputIsRefusedWithItsReason() {
        assertThatThrownBy(() -> LrScaling.parse("cubic")).hasMessageContaining("linear, sqrt or none");
        assertThat(LrScaling.parse(" Sqrt ")).isEqualTo(LrScaling.SQRT);
        assertThatThrownBy(() -> LrScaling.LINEAR.apply(Data2VecConfig.cpu(), Map.of(Modality.IMAGE, 64), 0))
                .hasMessageContaining("no batch size for audio");
        assertThatThrownBy(() -> Data2VecConfig.cpu().image().withLrScale(0)).hasMessageContaining("lr_scale");
    }
}
