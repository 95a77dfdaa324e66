package dev.d2v.train.optim;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class WeightDecayRuleTest {

    @Test
    void onlyMatricesAndKernelsDecay() {
        assertThat(WeightDecayRule.decays("blocks.0.attn.qkv.weight", new Shape(384, 128))).isTrue();
        assertThat(WeightDecayRule.decays("decoder.conv.0.weight", new Shape(64, 8, 3, 3))).isTrue();
        assertThat(WeightDecayRule.decays("blocks.0.attn.qkv.bias", new Shape(384))).isFalse();
        assertThat(WeightDecayRule.decays("blocks.0.norm1.weight", new Shape(128))).isFalse();
        assertThat(WeightDecayRule.decays("02LayerNorm_gamma", new Shape(128))).isFalse();
        assertThat(WeightDecayRule.decays("alibi_scale", new Shape(1, 1, 4, 1, 1))).isTrue();
        assertThat(WeightDecayRule.decays("encoder.norm.weight", new Shape(2, 128))).isFalse();
        assertThat(WeightDecayRule.decays("cls_token", new Shape(128))).isFalse();
        assertThat(WeightDecayRule.decayFor("head.bias", new Shape(10, 1), 0.05)).isZero();
        assertThat(WeightDecayRule.decayFor("head.weight", new Shape(10, 128), 0.05)).isEqualTo(0.05);
    }
}
