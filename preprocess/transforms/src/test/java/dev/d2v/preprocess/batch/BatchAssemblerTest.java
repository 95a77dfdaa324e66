package dev.d2v.preprocess.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.D2vConfig;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {

    /** text-like: [L=3] int32 per sample, batches of 4. */
    private static final BatchSpec TEXT = new BatchSpec(Modality.TEXT, DType.INT32, new int[] {3}, 4, 1000, 0xabcL);

    private static Sample text(int i, int valid, int label) {
        return new Sample("t" + i, Minibatch.int32Bytes(new int[] {i, 10 * i, 100 * i}), valid, label, 1000L + i);
    }

    @Test
    void batchSizesComeFromConfigurationPerModality() {
        D2vConfig.Batch sizes = D2vConfig.Batch.defaults();
        assertThat(BatchSpec.of(Modality.IMAGE, DType.UINT8, new int[] {1, 28, 28}, sizes, 0).batchSize()).isEqualTo(256);
        assertThat(BatchSpec.of(Modality.AUDIO, DType.FP16, new int[] {200, 80}, sizes, 0).batchSize()).isEqualTo(64);
        assertThat(BatchSpec.of(Modality.TEXT, DType.INT32, new int[] {64}, sizes, 0).batchSize()).isEqualTo(64);
        assertThat(BatchSpec.of(Modality.TEXT, DType.INT32, new int[] {64}, new D2vConfig.Batch(null, null, 8), 0).batchSize())
                .isEqualTo(8);
    }

    @Test
    void emitsAFullBatchOnTheSampleThatFillsIt() {
        BatchAssembler a = new BatchAssembler(TEXT);
        for (int i = 0; i < 3; i++) {
            assertThat(a.add(text(i, 3, -1), 0)).isEmpty();
        }
        Minibatch mb = a.add(text(3, 2, -1), 0).orElseThrow();
        // shape [4, 3]; rows are the samples' payloads in order
        assertThat(mb.shape()).containsExactly(4, 3);
        assertThat(mb.partial()).isFalse();
        assertThat(mb.sampleIds()).containsExactly("t0", "t1", "t2", "t3");
        assertThat(mb.toIntArray()).containsExactly(0, 0, 0, 1, 10, 100, 2, 20, 200, 3, 30, 300);
        assertThat(mb.validLengths()).containsExactly(3, 3, 3, 2);
        assertThat(mb.labels()).isNull(); // nobody had a label
        assertThat(mb.preprocessConfigHash()).isEqualTo(0xabcL);
        assertThat(mb.createdAtMs()).isEqualTo(1003L); // newest event time
        assertThat(a.pendingCount()).isZero();
        assertThat(a.flush()).isEmpty();
    }

    @Test
    void flushGivesThePendingSamplesAsAPartialBatch() {
        BatchAssembler a = new BatchAssembler(TEXT);
        a.add(text(0, 3, 7), 0);
        a.add(text(1, 3, -1), 0);
        Minibatch mb = a.flush().orElseThrow();
        assertThat(mb.shape()).containsExactly(2, 3);
        assertThat(mb.partial()).isTrue();
        assertThat(mb.labels()).containsExactly(7, -1);
        assertThat(a.flush()).isEmpty();
    }

    @Test
    void timeoutCountsFromTheFirstPendingSample() {
        BatchAssembler a = new BatchAssembler(TEXT); // timeout 1000 ms
        assertThat(a.deadlineMs()).isEmpty();
        assertThat(a.onTime(1_000_000)).isEmpty();
        a.add(text(0, 3, -1), 500);
        a.add(text(1, 3, -1), 1200);
        assertThat(a.deadlineMs()).hasValue(1500);
        assertThat(a.onTime(1499)).isEmpty();
        Optional<Minibatch> late = a.onTime(1500);
        assertThat(late).isPresent();
        assertThat(late.get().partial()).isTrue();
        assertThat(late.get().sampleIds()).containsExactly("t0", "t1");
        // the next batch's clock starts with its own first sample
        a.add(text(2, 3, -1), 4000);
        assertThat(a.deadlineMs()).hasValue(5000);
    }

    @Test
    void everySampleLandsInExactlyOneBatchInOrder() {
        BatchAssembler a = new BatchAssembler(TEXT);
        List<Minibatch> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            a.add(text(i, 3, -1), i).ifPresent(out::add);
        }
        a.flush().ifPresent(out::add);
        assertThat(out).extracting(Minibatch::batchSize).containsExactly(4, 4, 2);
        assertThat(out).extracting(Minibatch::partial).containsExactly(false, false, true);
        assertThat(out.stream().flatMap(m -> m.sampleIds().stream()).toList())
                .containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");
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
        BatchAssembler a = new BatchAssembler(TEXT);
        Sample wrong = new Sample("odd", new byte[5], 1, -1, 0);
        assertThatThrownBy(() -> a.add(wrong, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("odd").hasMessageContaining("needs 12");
        assertThatThrownBy(() -> new BatchSpec(Modality.TEXT, DType.INT32, new int[] {3}, 0, 1, 0))
                .hasMessageContaining("batch size must be >= 1");
    }
}
