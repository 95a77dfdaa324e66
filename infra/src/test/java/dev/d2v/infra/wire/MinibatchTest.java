package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import java.util.List;
import org.junit.jupiter.api.Test;

class MinibatchTest {

    @Test
    void floatFactoriesReadBack() {
        float[] values = {0f, 1.5f, -2.25f, 1e-3f, 3e4f, -0f};
        Minibatch fp32 = Minibatch.ofFloats(Modality.AUDIO, DType.FP32, new int[] {2, 3}, List.of("a", "b"), new int[] {3, 2}, values);
        assertThat(fp32.toFloatArray()).containsExactly(values);
        assertThat(fp32.payload()).hasSize(24);

        Minibatch fp16 = Minibatch.ofFloats(Modality.AUDIO, DType.FP16, new int[] {2, 3}, List.of("a", "b"), new int[] {3, 2}, values);
        assertThat(fp16.payload()).hasSize(12);
        float[] back = fp16.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            assertThat(back[i]).isEqualTo(DType.fp16ToFloat(DType.floatToFp16(values[i])));
        }
        assertThat(back[1]).isEqualTo(1.5f); // exactly representable
        assertThat(fp16.toFp16Bits()[1]).isEqualTo((short) 0x3e00);
    }

    @Test
    void integerPayloadsReadBackExactly() {
        Minibatch text = Minibatch.builder(Modality.TEXT, 2, 3).sampleIds("t1", "t2").validLengths(3, 1)
                .labels(4, -1).int32(new int[] {101, 7, 102, Integer.MIN_VALUE, 0, Integer.MAX_VALUE});
        assertThat(text.toIntArray()).containsExactly(101, 7, 102, Integer.MIN_VALUE, 0, Integer.MAX_VALUE);
        assertThat(text.payload()).startsWith(101, 0, 0, 0); // little-endian

        Minibatch image = Minibatch.builder(Modality.IMAGE, 1, 1, 2, 2).sampleIds("img")
                .uint8(new byte[] {0, 127, (byte) 128, (byte) 255});
        assertThat(image.toIntArray()).containsExactly(0, 127, 128, 255);
        assertThat(image.toFloatArray()).containsExactly(0f, 127f, 128f, 255f);
        assertThat(image.validLengths()).as("default: full length along axis 1").containsExactly(1);
        assertThatThrownBy(text::toFp16Bits).hasMessageContaining("needs an FP16 batch");
        assertThatThrownBy(() -> Minibatch.ofFloats(Modality.AUDIO, DType.FP32, new int[] {1}, List.of("x"), new int[] {1},
                new float[] {1f}).toIntArray()).hasMessageContaining("UINT8 or INT32");
    }

    @Test
    void constructorChecksConsistency() {
        var b = Minibatch.builder(Modality.TEXT, 2, 4).sampleIds("a", "b");
        assertThatThrownBy(() -> b.payload(DType.INT32, new byte[31]))
                .hasMessageContaining("payload has 31 bytes but shape [2, 4] of INT32 needs 32");
        assertThatThrownBy(() -> Minibatch.builder(Modality.TEXT, 2, 4).sampleIds("a").int32(new int[8]))
                .hasMessageContaining("sampleIds has 1 entries but the batch size shape[0] is 2");
        assertThatThrownBy(() -> b.validLengths(4, 5).int32(new int[8]))
                .hasMessageContaining("validLengths[1] = 5 is outside [0, 4]");
        assertThatThrownBy(() -> b.validLengths(4, 4).labels(1, -2).int32(new int[8]))
                .hasMessageContaining("labels[1] = -2");
        assertThatThrownBy(() -> b.labels(1).int32(new int[8]))
                .hasMessageContaining("labels has 1 entries");
        assertThatThrownBy(() -> Minibatch.builder(Modality.TEXT, 1, 0).sampleIds("a").int32(new int[0]))
                .hasMessageContaining("every dim must be >= 1");
        assertThatThrownBy(() -> Minibatch.builder(Modality.TEXT, 1, 1, 1, 1, 1, 1, 1, 1, 1).sampleIds("a").int32(new int[1]))
                .hasMessageContaining("rank 1..8");
        assertThatThrownBy(() -> Minibatch.builder(Modality.TEXT, 1).sampleIds("bad\ud800").int32(new int[1]))
                .hasMessageContaining("lone UTF-16 surrogate");
    }

    @Test
    void equalityComparesArrayContents() {
        Minibatch a = MinibatchArbitraries.sample(DType.FP16);
        Minibatch b = MinibatchArbitraries.sample(DType.FP16);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        byte[] other = b.payload().clone();
        other[0] ^= 1;
        Minibatch c = new Minibatch(b.modality(), b.dtype(), b.shape(), b.sampleIds(), b.validLengths(), b.labels(),
                b.partial(), b.preprocessConfigHash(), b.createdAtMs(), other);
        assertThat(c).isNotEqualTo(a);
        Minibatch unlabeled = new Minibatch(b.modality(), b.dtype(), b.shape(), b.sampleIds(), b.validLengths(), null,
                b.partial(), b.preprocessConfigHash(), b.createdAtMs(), b.payload());
        assertThat(unlabeled).isNotEqualTo(a);
        assertThat(a.toString()).contains("audio", "FP16", "[2, 3, 2]", "partial").doesNotContain("payload=[");
    }

    @Test
    void accessorsDoNotExposeInternalArrays() {
        Minibatch a = MinibatchArbitraries.sample(DType.UINT8);
        a.shape()[0] = 99;
        a.validLengths()[0] = 99;
        a.labels()[0] = 99;
        assertThat(a).isEqualTo(MinibatchArbitraries.sample(DType.UINT8));
    }
}
