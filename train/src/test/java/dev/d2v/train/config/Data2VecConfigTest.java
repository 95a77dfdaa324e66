package dev.d2v.train.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.infra.Modality;
import java.util.List;
import org.junit.jupiter.api.Test;

class Data2VecConfigTest {

    @Test
    void presetsFollowTheScalingStudy() {
        Data2VecConfig[] presets = {Data2VecConfig.tiny(), Data2VecConfig.small(), Data2VecConfig.base(), Data2VecConfig.large()};
        int[][] expected = {{192, 6, 3}, {384, 8, 6}, {768, 12, 12}, {1024, 24, 16}};
        for (int i = 0; i < presets.length; i++) {
            ModelConfig m = presets[i].model();
            assertThat(new int[] {m.dim(), m.depth(), m.heads()}).containsExactly(expected[i]);
            assertThat(presets[i].modalities()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.TEXT);
        }
    }

    @Test
    void baseMatchesTheReferenceColumns() {
        Data2VecConfig b = Data2VecConfig.base();
        assertThat(b.image().prenetDepth()).isEqualTo(2);
        assertThat(b.image().targets().averageTopKLayers()).isEqualTo(10);
        assertThat(b.audio().targets().averageTopKLayers()).isEqualTo(8);
        assertThat(b.text().targets().averageTopKLayers()).isEqualTo(12);
        assertThat(b.image().targets().finalNorm()).isEqualTo(FinalNorm.LAYER_NORM);
        assertThat(b.audio().targets().finalNorm()).isEqualTo(FinalNorm.NONE);
        assertThat(b.image().multiMask()).isEqualTo(16);
        assertThat(b.audio().multiMask()).isEqualTo(8);
        assertThat(b.image().decoder().dim()).isEqualTo(768);
        assertThat(b.audio().decoder().dim()).isEqualTo(384);
        assertThat(b.image().masking().maskRatio()).isEqualTo(0.8);
        assertThat(b.image().loss().clsLossWeight()).isEqualTo(0.01);
        assertThat(b.text().loss().clsLossWeight()).isZero();
        Data2VecConfig audio = b.only(Modality.AUDIO);
        assertThat(audio.modalities()).containsExactly(Modality.AUDIO);
        assertThat(audio.optim().lr()).isEqualTo(7.5e-4);
        assertThat(audio.ema().tauStart()).isEqualTo(0.999);
    }

    @Test
    void cpuPresetIsSmall() {
        Data2VecConfig c = Data2VecConfig.cpu();
        assertThat(c.model().dim()).isEqualTo(192);
        assertThat(c.image().multiMask()).isEqualTo(4);
        assertThat(c.optim().totalSteps()).isLessThanOrEqualTo(1000);
        assertThat(Data2VecConfig.preset("CPU")).isEqualTo(c);
    }

    @Test
    void lossScaleDefaultsToInverseSqrtDim() {
        assertThat(LossConfig.reference(Modality.IMAGE).scale(64)).isCloseTo(0.125, within(1e-12));
        assertThat(new LossConfig(2.0, 0.5, 0, 0).scale(64)).isEqualTo(0.5);
    }

    @Test
    void jsonRoundTripKeepsEveryValue() {
        for (String p : new String[] {"tiny", "base", "cpu"}) {
            Data2VecConfig c = Data2VecConfig.preset(p);
            assertThat(Data2VecConfig.fromJson(c.toJson())).isEqualTo(c);
        }
        assertThat(Data2VecConfig.cpu().toJson()).contains("\"mask_ratio\"", "\"ema_momentum_start\"", "\"multi_mask\"",
                "\"loss_beta\"", "\"average_top_k_layers\"", "\"inverse_mask\"", "\"conv_decoder\"");
    }

    @Test
    void seedAliasesAreAccepted() {
        String json = Data2VecConfig.cpu().toJson()
                .replace("\"average_top_k_layers\":4", "\"avg_pool_layers\":3")
                .replace("\"ema_momentum_start\"", "\"tau_start\"")
                .replace("\"multi_mask\":4", "\"clone_batch\":2");
        Data2VecConfig c = Data2VecConfig.fromJson(json);
        assertThat(c.image().targets().averageTopKLayers()).isEqualTo(3);
        assertThat(c.image().multiMask()).isEqualTo(2);
        assertThat(c.ema().tauStart()).isEqualTo(Data2VecConfig.cpu().ema().tauStart());
    }

    @Test
    void invalidValuesFailWithTheKey() {
        assertThatThrownBy(() -> new ModelConfig(100, 4, 3, 4, 0)).hasMessageContaining("multiple of model.heads");
        assertThatThrownBy(() -> new MaskingConfig(MaskKind.BLOCK_2D, 1.0, 3, 0, true)).hasMessageContaining("mask_ratio");
        assertThatThrownBy(() -> new DecoderConfig(true, 64, 2, 4, 8, true, 1)).hasMessageContaining("kernel");
        assertThatThrownBy(() -> new EmaConfig(0.999, 0.99, 10, EmaSchedule.COSINE, true)).hasMessageContaining("ema_momentum_end");
        Data2VecConfig c = Data2VecConfig.cpu();
        ModalityConfig tooDeep = new ModalityConfig(0, c.image().masking(), 4, c.image().decoder(),
                new TargetConfig(5, true, FinalNorm.LAYER_NORM, false), c.image().loss(), c.image().localEncoder());
        assertThatThrownBy(() -> new Data2VecConfig(c.model(), tooDeep, null, null, c.ema(), c.optim(), null))
                .hasMessageContaining("average_top_k_layers 5 exceeds the 4 main blocks");
        assertThatThrownBy(() -> Data2VecConfig.fromJson(c.toJson().replace("\"heads\":4", "\"heads\":5")))
                .hasMessageContaining("multiple of model.heads");
    }

    @Test
    void dottedOverridesChangeOneFieldAndAreValidated() {
        Data2VecConfig c = Data2VecConfig.cpu().withOverrides(List.of("model.dim=256",
                "image.masking.mask_ratio=0.7", "optim.lr=5e-4", "image.targets.final_norm=none"));
        assertThat(c.model().dim()).isEqualTo(256);
        assertThat(c.image().masking().maskRatio()).isEqualTo(0.7);
        assertThat(c.optim().lr()).isEqualTo(5e-4);
        assertThat(c.image().targets().finalNorm()).isEqualTo(FinalNorm.NONE);
        assertThat(c.model().depth()).isEqualTo(Data2VecConfig.cpu().model().depth());   // the rest unchanged
        assertThat(Data2VecConfig.cpu().withOverrides(List.of())).isEqualTo(Data2VecConfig.cpu());

        assertThatThrownBy(() -> Data2VecConfig.cpu().withOverrides(List.of("model.width=192")))
                .hasMessageContaining("no key 'width' in model").hasMessageContaining("dim");
        assertThatThrownBy(() -> Data2VecConfig.cpu().withOverrides(List.of("model.dim=wide")))
                .hasMessageContaining("model.dim");
        assertThatThrownBy(() -> Data2VecConfig.cpu().withOverrides(List.of("model.dim")))
                .hasMessageContaining("KEY=VALUE");
        assertThatThrownBy(() -> Data2VecConfig.cpu().withOverrides(List.of("optim.lr=-1")))
                .hasMessageContaining("optim.lr must be > 0");
    }

    @Test
    void theTextTablesInitStdsAreWrittenOutSoAnOverrideFindsThemAndOldConfigsReadAsTheSmallInit() {
        Data2VecConfig c = Data2VecConfig.cpu().withOverrides(List.of("text.local_encoder.token_init_std=1",
                "text.local_encoder.position_init_std=0.07"));
        assertThat(c.text().localEncoder().tokenInitStd()).isEqualTo(1.0);
        assertThat(c.text().localEncoder().positionInitStd()).isEqualTo(0.07);
        assertThat(Data2VecConfig.fromJson(c.toJson())).isEqualTo(c);
        String old = Data2VecConfig.tiny().toJson().replaceAll(",\"(token|position)_init_std\":[0-9.Ee-]+", "");
        assertThat(old).doesNotContain("init_std");
        assertThat(Data2VecConfig.fromJson(old).text().localEncoder().tokenInitStd()).isZero();   // declared at 0.02
        assertThatThrownBy(() -> Data2VecConfig.cpu().withOverrides(List.of("text.local_encoder.token_init_std=-1")))
                .hasMessageContaining("init stds must be finite and >= 0");
    }
}
