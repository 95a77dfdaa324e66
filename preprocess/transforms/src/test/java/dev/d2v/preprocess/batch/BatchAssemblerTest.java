package dev.d2v.preprocess.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {

    /** text-like: [L=3] int32 per sample, batches of 4. */
    private static final BatchSpec TEXT = new BatchSpec(Modality.TEXT, DType.INT32, new int[] {3}, 4, 1000, 0xabcL);

    private static Sample text(int i, int valid, int label) {
        return new Sample("t" + i, Minibatch.int32Bytes(new int[] {i, 10 * i, 100 * i}), valid, label, 1000L + i);
    }

    @Test
    void batchSizesComeFromConfigurationPerModality() {
        PipelineConfig.Batch sizes = PipelineConfig.Batch.defaults();
        assertThat(BatchSpec.of(Modality.IMAGE, DType.UINT8, new int[] {1, 28, 28}, sizes, 0).batchSize()).isEqualTo(256);
        assertThat(BatchSpec.of(Modality.AUDIO, DType.FP16, new int[] {200, 80}, sizes, 0).batchSize()).isEqualTo(64);
        assertThat(BatchSpec.of(Modality.TEXT, DType.INT32, new int[] {64}, sizes, 0).batchSize()).isEqualTo(64);
        assertThat(BatchSpec.of(Modality.TEXT, DType.INT32, new int[] {64}, new PipelineConfig.Batch(null, null, 8), 0).batchSize())
                .isEqualTo(8);
    }

    @Test
    void stacksAFullBatchInSampleOrder() {
        List<Sample> four = List.of(text(0, 3, -1), text(1, 3, -1), text(2, 3, -1), text(3, 2, -1));
        Minibatch mb = BatchAssembler.assemble(TEXT, four);
        // shape [4, 3]; rows are the samples' payloads in order
        assertThat(mb.shape()).containsExactly(4, 3);
        assertThat(mb.partial()).isFalse();
        assertThat(mb.sampleIds()).containsExactly("t0", "t1", "t2", "t3");
        assertThat(mb.toIntArray()).containsExactly(0, 0, 0, 1, 10, 100, 2, 20, 200, 3, 30, 300);
        assertThat(mb.validLengths()).containsExactly(3, 3, 3, 2);
        assertThat(mb.labels()).isNull(); // nobody had a label
        assertThat(mb.preprocessConfigHash()).isEqualTo(0xabcL);
        assertThat(mb.createdAtMs()).isEqualTo(1003L); // newest event time
    }

    @Test
    void fewerSamplesThanTheBatchSizeMakeAPartialBatch() {
        Minibatch mb = BatchAssembler.assemble(TEXT, List.of(text(0, 3, 7), text(1, 3, -1)));
        assertThat(mb.shape()).containsExactly(2, 3);
        assertThat(mb.partial()).isTrue();
        assertThat(mb.labels()).containsExactly(7, -1);
    }

    @Test
    void aBatchHoldsOneToBatchSizeSamples() {
        assertThatThrownBy(() -> BatchAssembler.assemble(TEXT, List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a text batch holds 1..4 samples, got 0");
        List<Sample> five = List.of(text(0, 3, -1), text(1, 3, -1), text(2, 3, -1), text(3, 3, -1), text(4, 3, -1));
        assertThatThrownBy(() -> BatchAssembler.assemble(TEXT, five)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a text batch holds 1..4 samples, got 5");
    }

    @Test
    void batchesSurviveTheWireCodec() {
        BatchSpec audio = new BatchSpec(Modality.AUDIO, DType.FP16, new int[] {2, 2}, 2, 1000, 42);
        byte[] row = Minibatch.fp16Bytes(new float[] {0.5f, -1f, 2f, 0f});
        Minibatch mb = BatchAssembler.assemble(audio, List.of(new Sample("a", row, 1, -1, 5), new Sample("b", row, 2, 3, 9)));
        MinibatchCodec codec = MinibatchCodec.inline();
        Minibatch back = codec.decode(codec.encode(mb));
        assertThat(back).isEqualTo(mb);
        assertThat(back.toFloatArray()).containsExactly(0.5f, -1f, 2f, 0f, 0.5f, -1f, 2f, 0f);
        assertThat(back.validLengths()).containsExactly(1, 2);
    }

    @Test
    void aSampleOfTheWrongSizeIsRefusedWithItsId() {
        Sample wrong = new Sample("odd", new byte[5], 1, -1, 0);
        assertThatThrownBy(() -> BatchAssembler.assemble(TEXT, List.of(text(0, 3, -1), wrong))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("odd").hasMessageContaining("needs 12");
        assertThatThrownBy(() -> new BatchSpec(Modality.TEXT, DType.INT32, new int[] {3}, 0, 1, 0))
                .hasMessageContaining("batch size must be >= 1");
    }
}
