package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.config.Data2VecConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@link BatchTensors#check} refuses before a step, each with its reason code; a good batch passes. */
class BatchCheckTest {

    private static final Data2VecConfig TINY = TinyConfigs.tiny();   // 1x8x8 images, 16 mels x 24 frames, vocab 50

    private static String reason(Minibatch b) {
        BadBatchException e = catchThrowableOfType(() -> BatchTensors.check(b, TINY.modality(b.modality())),
                BadBatchException.class);
        assertThat(e).as("refused: %s", b).isNotNull();
        return e.reason();
    }

    @Test
    void goodBatchesOfEveryModalityPass() {
        BatchTensors.check(SyntheticBatches.image(4, 1, 8, 1), TINY.image());
        BatchTensors.check(SyntheticBatches.audio(4, 24, 16, 1), TINY.audio());
        BatchTensors.check(SyntheticBatches.text(4, 16, 50, 1), TINY.text());
    }

    @Test
    void anImageOfAnotherSizeOrDtypeIsRefused() {
        Minibatch big = SyntheticBatches.image(1, 1, 12, 1);    // 1x12x12 for an 8x8 model
        assertThat(reason(big)).isEqualTo(BadBatchException.SHAPE);
        assertThatThrownBy(() -> BatchTensors.check(big, TINY.image())).hasMessageContaining("1x12x12")
                .hasMessageContaining("1x8x8");
        Minibatch floats = Minibatch.builder(Modality.IMAGE, 1, 1, 8, 8).sampleIds(List.of("f")).fp16(new float[64]);
        assertThat(reason(floats)).isEqualTo(BadBatchException.DTYPE);
    }

    @Test
    void aTokenIdBeyondTheVocabularyIsRefused() {
        Minibatch ok = SyntheticBatches.text(2, 16, 50, 3);
        byte[] ids = ok.payload().clone();
        ByteBuffer.wrap(ids).order(ByteOrder.LITTLE_ENDIAN).putInt(4 * 17, 50);   // row 1, token 1: one past the table
        Minibatch beyond = Minibatch.builder(Modality.TEXT, 2, 16).sampleIds(ok.sampleIds())
                .validLengths(ok.validLengths()).payload(ok.dtype(), ids);
        assertThat(reason(beyond)).isEqualTo(BadBatchException.TOKEN_RANGE);
        ByteBuffer.wrap(ids).order(ByteOrder.LITTLE_ENDIAN).putInt(4 * 17, -1);
        Minibatch negative = Minibatch.builder(Modality.TEXT, 2, 16).sampleIds(ok.sampleIds())
                .validLengths(ok.validLengths()).payload(ok.dtype(), ids);
        assertThat(reason(negative)).isEqualTo(BadBatchException.TOKEN_RANGE);
        Minibatch longRow = SyntheticBatches.text(2, 17, 50, 3);
        assertThat(reason(longRow)).isEqualTo(BadBatchException.SHAPE);
    }

    @Test
    void audioWithANonFiniteValueOrTooManyFramesIsRefused() {
        Minibatch ok = SyntheticBatches.audio(2, 24, 16, 5);
        float[] v = ok.toFloatArray();
        v[24 * 16 + 7] = Float.NaN;
        Minibatch nan = Minibatch.builder(Modality.AUDIO, 2, 24, 16).sampleIds(ok.sampleIds())
                .validLengths(ok.validLengths()).fp16(v);
        assertThat(reason(nan)).isEqualTo(BadBatchException.NON_FINITE);
        v[24 * 16 + 7] = Float.POSITIVE_INFINITY;
        Minibatch inf = Minibatch.builder(Modality.AUDIO, 2, 24, 16).sampleIds(ok.sampleIds())
                .validLengths(ok.validLengths()).fp16(v);
        assertThat(reason(inf)).isEqualTo(BadBatchException.NON_FINITE);
        assertThat(reason(SyntheticBatches.audio(2, 25, 16, 5))).isEqualTo(BadBatchException.SHAPE);
        assertThat(reason(SyntheticBatches.audio(2, 24, 12, 5))).isEqualTo(BadBatchException.SHAPE);
    }

    @Test
    void aSampleTwiceInOneBatchIsRefused() {
        Minibatch ok = SyntheticBatches.image(3, 1, 8, 9);
        Minibatch twice = Minibatch.builder(Modality.IMAGE, 3, 1, 8, 8)
                .sampleIds(List.of("a", "b", "a")).uint8(ok.payload());
        assertThat(reason(twice)).isEqualTo(BadBatchException.DUPLICATE_IDS);
    }

    @Test
    void aModalityWithoutAnEncoderIsRefusedByTheTrainersStep() {
        BadBatchException e = catchThrowableOfType(() -> {
            try (Trainer t = new Trainer(TINY.restrictTo(List.of(Modality.IMAGE)), ai.djl.Device.cpu(), 1)) {
                t.step(SyntheticBatches.text(2, 16, 50, 1));
            }
        }, BadBatchException.class);
        assertThat(e.reason()).isEqualTo(BadBatchException.NO_ENCODER);
        assertThat(e.stage(Modality.TEXT)).isEqualTo("train.text.no-encoder");
    }
}
