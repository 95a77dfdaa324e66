package dev.d2v.preprocess.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class TransformsTest {

    @Test
    void overridesChangeTheNamedFieldAndTheConfigHashOnly() {
        Transforms d = Transforms.defaults();
        Transforms t = d.withOverrides(List.of("image.flipProbability=0.5", "image.cropScaleMin=0.2", "audio.mels=64"));
        assertThat(t.image()).isEqualTo(d.image().withFlipProbability(0.5).withCropScale(0.2, 1.0));
        assertThat(t.audio().mels()).isEqualTo(64);
        assertThat(t.text()).isEqualTo(d.text());
        assertThat(t.configHash(Modality.IMAGE, null)).isNotEqualTo(d.configHash(Modality.IMAGE, null));
        assertThat(d.withOverrides(List.of())).isSameAs(d);
        List<String> flips = List.of("image.flipProbability=0.5");
        assertThat(Transforms.of(PipelineConfig.defaults().withTransformOverrides(flips)))
                .isEqualTo(d.withOverrides(flips))
                .isNotEqualTo(d);
    }

    @Test
    void aBadKeyOrValueIsNamed() {
        assertThatThrownBy(() -> Transforms.defaults().withOverrides(List.of("image.flip=0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no key 'flip' in image")
                .hasMessageContaining("flipProbability");
        assertThatThrownBy(() -> Transforms.defaults().withOverrides(List.of("image.flipProbability=yes")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a number");
        assertThatThrownBy(() -> Transforms.defaults().withOverrides(List.of("image.cropScaleMin=0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("crop scale needs 0 < min");
    }

    @Test
    void commandLineKeysAreToldApartByTheirPrefix() {
        List<String> mixed = List.of("optim.lr=3e-3", "transforms.image.flipProbability=0", "image.multi_mask=2");
        assertThat(Transforms.transformAssignments(mixed)).containsExactly("image.flipProbability=0");
        assertThat(Transforms.isTransformKey("image.multi_mask=2")).isFalse();
    }
}
