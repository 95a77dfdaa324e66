package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class DeadLetterTest {

    /** What a consumer of the dead-letter topic would receive for {@code sent}. */
    private static ConsumerRecord<byte[], byte[]> delivered(ProducerRecord<byte[], byte[]> sent, long offset) {
        return new ConsumerRecord<>(sent.topic(), 0, offset, sent.timestamp(), TimestampType.CREATE_TIME,
                -1, -1, sent.key(), sent.value(), sent.headers(), Optional.empty());
    }

    @Test
    void roundTripsThroughKafkaRecords() {
        RecordHeaders raw = new RecordHeaders();
        raw.add(RawHeaders.CONTENT_TYPE, "audio/wav".getBytes(StandardCharsets.UTF_8));
        raw.add(RawHeaders.LABEL, "yes".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<byte[], byte[]> failed = new ConsumerRecord<>("d2v.raw.audio", 3, 1234L, 0L, TimestampType.CREATE_TIME,
                -1, -1, "clip-17".getBytes(StandardCharsets.UTF_8), new byte[] {'R', 'I', 'F', 'X'}, raw, Optional.empty());
        Throwable error = new IllegalStateException("bad WAV header", new UncheckedIOException(new IOException("RIFX is big-endian")));

        DeadLetter dl = DeadLetter.of(failed, "preprocess.audio.decode", error, 1_700_000_000_000L);
        ProducerRecord<byte[], byte[]> sent = dl.toProducerRecord("d2v.deadletter");
        assertThat(sent.topic()).isEqualTo("d2v.deadletter");
        assertThat(sent.key()).isEqualTo(failed.key());
        assertThat(sent.value()).isEqualTo(failed.value());
        assertThat(sent.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(new String(sent.headers().lastHeader(DeadLetter.ERROR_CLASS).value(), StandardCharsets.UTF_8))
                .isEqualTo("java.lang.IllegalStateException");
        assertThat(new String(sent.headers().lastHeader("original.header.label").value(), StandardCharsets.UTF_8)).isEqualTo("yes");

        DeadLetter back = DeadLetter.fromConsumerRecord(delivered(sent, 9));
        assertThat(back).isEqualTo(dl);
        assertThat(back.topic()).isEqualTo("d2v.raw.audio");
        assertThat(back.partition()).isEqualTo(3);
        assertThat(back.offset()).isEqualTo(1234L);
        assertThat(back.stage()).isEqualTo("preprocess.audio.decode");
        assertThat(back.errorMessage()).startsWith("bad WAV header").contains("root cause java.io.IOException: RIFX is big-endian");
        assertThat(back.originalHeaders()).extracting(h -> h.key()).containsExactly(RawHeaders.CONTENT_TYPE, RawHeaders.LABEL);
        assertThat(back.originalHeaders().get(0).value()).isEqualTo("audio/wav".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void nullKeyAndValueAndUnknownPositionSurvive() {
        DeadLetter dl = DeadLetter.of("", -1, -1, null, null, null, "ingest.walk", new RuntimeException((String) null), 5);
        DeadLetter back = DeadLetter.fromConsumerRecord(delivered(dl.toProducerRecord("dl"), 0));
        assertThat(back).isEqualTo(dl);
        assertThat(back.key()).isNull();
        assertThat(back.errorMessage()).isEmpty();
    }

    @Test
    void longMessagesAreTruncatedWithoutSplittingAPair() {
        String longMsg = "x".repeat(DeadLetter.MAX_ERROR_MESSAGE_CHARS - "...[truncated]".length() - 1) + "\uD83D\uDE42" + "y".repeat(5000);
        DeadLetter dl = DeadLetter.of("t", 0, 0, null, new byte[1], null, "s", new RuntimeException(longMsg), 1);
        assertThat(dl.errorMessage()).hasSizeLessThanOrEqualTo(DeadLetter.MAX_ERROR_MESSAGE_CHARS).endsWith("...[truncated]");
        assertThat(Character.isHighSurrogate(dl.errorMessage().charAt(dl.errorMessage().length() - 15))).isFalse();
    }

    @Test
    void foreignOrFutureRecordsAreRejected() {
        ConsumerRecord<byte[], byte[]> plain = new ConsumerRecord<>("d2v.deadletter", 0, 7L, null, new byte[1]);
        assertThatThrownBy(() -> DeadLetter.fromConsumerRecord(plain)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("has no d2v.dl.v header");
        ProducerRecord<byte[], byte[]> sent = DeadLetter.of("t", 0, 0, null, null, null, "s", new RuntimeException("e"), 1)
                .toProducerRecord("dl");
        sent.headers().remove(DeadLetter.VERSION_KEY).add(DeadLetter.VERSION_KEY, "2".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> DeadLetter.fromConsumerRecord(delivered(sent, 0))).isInstanceOf(WireFormatException.class)
                .hasMessage("unknown dead-letter header version 2 (this build reads 1)");
    }
}
