package dev.d2v.pipelines.ablate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --vary parsing and the grid it makes: pure functions. */
class FactorTest {

    @Test
    void parsesKeyAndCommaSeparatedValues() {
        Factor f = Factor.parse("image.targets.average_top_k_layers=1, 2,4");
        assertThat(f.key()).isEqualTo("image.targets.average_top_k_layers");
        assertThat(f.values()).containsExactly("1", "2", "4");
        assertThat(f.isPreset()).isFalse();
        assertThat(Factor.parse("preset=tiny,cpu").isPreset()).isTrue();
        assertThat(Factor.parse("optim.lr=5e-4").values()).containsExactly("5e-4");
    }

    @Test
    void refusesMalformedOptions() {
        assertThatThrownBy(() -> Factor.parse("optim.lr")).hasMessageContaining("KEY=V1,V2");
        assertThatThrownBy(() -> Factor.parse("=1,2")).hasMessageContaining("KEY=V1,V2");
        assertThatThrownBy(() -> Factor.parse("optim.lr=")).hasMessageContaining("empty value");
        assertThatThrownBy(() -> Factor.parse("optim.lr=1e-3,,2e-3")).hasMessageContaining("empty value");
        assertThatThrownBy(() -> Factor.parse("optim.lr=1e-3,1e-3")).hasMessageContaining("'1e-3' given twice");
    }

    @Test
    void gridIsTheProductWithTheFirstFactorSlowest() {
        List<Variant> grid = Variant.grid(List.of(Factor.parse("preset=tiny,cpu"), Factor.parse("optim.lr=1e-3,2e-3,4e-3")));
        assertThat(grid).extracting(Variant::name).containsExactly(
                "preset=tiny,optim.lr=1e-3", "preset=tiny,optim.lr=2e-3", "preset=tiny,optim.lr=4e-3",
                "preset=cpu,optim.lr=1e-3", "preset=cpu,optim.lr=2e-3", "preset=cpu,optim.lr=4e-3");
        Variant v = grid.get(4);
        assertThat(v.preset("base")).isEqualTo("cpu");
        assertThat(v.overrides()).containsExactly("optim.lr=2e-3");
        assertThat(v.assignments()).containsExactly(Map.entry("preset", "cpu"), Map.entry("optim.lr", "2e-3"));
    }

    @Test
    void noFactorsIsOneDefaultVariant() {
        List<Variant> grid = Variant.grid(List.of());
        assertThat(grid).hasSize(1);
        assertThat(grid.get(0).name()).isEqualTo(Variant.DEFAULT_NAME);
        assertThat(grid.get(0).preset("cpu")).isEqualTo("cpu");
        assertThat(grid.get(0).overrides()).isEmpty();
        assertThat(grid.get(0).folder(3)).isEqualTo("default-seed3");
    }

    @Test
    void aKeyVariedTwiceIsRefused() {
        assertThatThrownBy(() -> Variant.grid(List.of(Factor.parse("optim.lr=1e-3"), Factor.parse("optim.lr=2e-3"))))
                .hasMessageContaining("optim.lr is given twice");
    }

    @Test
    void folderNamesKeepTheVariantReadable() {
        Variant v = Variant.grid(List.of(Factor.parse("image.targets.average_top_k_layers=2"),
                Factor.parse("image.masking.kind=\"block 2d\""))).get(0);
        assertThat(v.folder(1)).isEqualTo("image.targets.average_top_k_layers=2,image.masking.kind=_block_2d_-seed1");
        assertThat(Variant.grid(List.of(Factor.parse("optim.lr=1e-3"))).get(0).folder(12)).isEqualTo("optim.lr=1e-3-seed12");
    }
}
