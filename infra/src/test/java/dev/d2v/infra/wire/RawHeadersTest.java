package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

class RawHeadersTest {
    @Test
    void roundTrip() {
        RawHeaders h = new RawHeaders("image/png", "file:/x.png", Optional.of("7"), Optional.of("train"), 1234L);
        assertThat(RawHeaders.fromKafka(h.toKafka())).isEqualTo(h);
        RawHeaders bare = new RawHeaders("text/plain", null, null, null, 0);
        assertThat(RawHeaders.fromKafka(bare.toKafka())).isEqualTo(bare);
    }

    @Test
    void unknownVersionMissingContentTypeAndBadTimeFailClearly() {
        Headers h = new RawHeaders("image/png", "s", Optional.empty(), Optional.empty(), 0).toKafka();
        h.remove(RawHeaders.VERSION_KEY).add(RawHeaders.VERSION_KEY, "9".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> RawHeaders.fromKafka(h)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("unknown raw header version 9");
        Headers noType = new RawHeaders("image/png", "s", Optional.empty(), Optional.empty(), 0).toKafka();
        noType.remove(RawHeaders.CONTENT_TYPE);
        assertThatThrownBy(() -> RawHeaders.fromKafka(noType)).hasMessageContaining("content-type");
        Headers badTime = new RawHeaders("image/png", "s", Optional.empty(), Optional.empty(), 0).toKafka();
        badTime.add(RawHeaders.EVENT_TIME, "soon".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> RawHeaders.fromKafka(badTime)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("not epoch millis");
    }
}
