package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class EventsTest {

    private static CheckpointEvent checkpoint() {
        return new CheckpointEvent("step-000001200", 1200,
                Map.of("image", 76_800L, "audio", 38_400L, "text", 0L),
                Map.of("d2v.batch.image:0", 301L, "d2v.batch.image:1", 299L, "d2v.batch.audio:0", 150L),
                "file:/var/d2v/checkpoints/step-000001200", 0xfedc_ba98_7654_3210L, Instant.parse("2025-01-02T03:04:05.123456789Z"));
    }

    private static EvalEvent eval() {
        return new EvalEvent("step-000001200", 1200, Modality.AUDIO, "speech-commands", EvalResult.Protocol.LINEAR,
                0.8125, 0.25, Map.of("loss", 0.61, "seconds", 12.5, "top5", Double.NaN), Instant.parse("2025-01-02T03:10:00Z"));
    }

    // ------------------------------------------------------------------ checkpoint

    @Test
    void checkpointRoundTripsAndReadsAsDocumented() throws Exception {
        CheckpointEvent e = checkpoint();
        byte[] json = e.toJson();
        assertThat(CheckpointEvent.fromJson(json)).isEqualTo(e);
        var tree = Json.MAPPER.readTree(json);
        assertThat(tree.get("version").asInt()).isEqualTo(1);
        assertThat(tree.get("kind").asText()).isEqualTo("checkpoint");
        assertThat(tree.get("configHash").asText()).isEqualTo("fedcba9876543210");
        assertThat(tree.get("offsets").get("d2v.batch.image:1").asLong()).isEqualTo(299);
        assertThat(tree.get("createdAt").asText()).isEqualTo("2025-01-02T03:04:05.123456789Z");
        assertThat(e.offsetsByPartition()).containsEntry(new TopicPartition("d2v.batch.audio", 0), 150L).hasSize(3);
        assertThat(e.samplesSeen(Modality.IMAGE)).isEqualTo(76_800L);
    }

    @Property(tries = 200)
    void checkpointRoundTripsAnyValues(@ForAll @AlphaChars @StringLength(min = 1, max = 20) String id,
                                       @ForAll @LongRange(min = 0) long step, @ForAll long hash,
                                       @ForAll @LongRange(min = 0) long seen, @ForAll @LongRange(min = 0) long offset,
                                       @ForAll @LongRange(min = 0, max = 4_000_000_000_000L) long epochMs) {
        CheckpointEvent e = new CheckpointEvent(id, step, Map.of("text", seen), Map.of("t-" + id + ":3", offset),
                "s3://bucket/" + id, hash, Instant.ofEpochMilli(epochMs));
        assertThat(CheckpointEvent.fromJson(e.toJson())).isEqualTo(e);
    }

    @Test
    void checkpointUnknownVersionIsRejected() {
        byte[] json = withField(checkpoint().toJson(), "version", 2);
        assertThatThrownBy(() -> CheckpointEvent.fromJson(json)).isInstanceOf(WireFormatException.class)
                .hasMessage("unknown checkpoint event version 2 (this build reads 1)");
    }

    @Test
    void checkpointProblemsNameThemselves() {
        assertThatThrownBy(() -> CheckpointEvent.fromJson("{\"version\":1, \"step\":".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class).hasMessageStartingWith("malformed checkpoint event JSON");
        assertThatThrownBy(() -> CheckpointEvent.fromJson("[1,2]".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("expected an object");
        assertThatThrownBy(() -> CheckpointEvent.fromJson("{\"step\":3}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("no integer 'version' field");
        assertThatThrownBy(() -> CheckpointEvent.fromJson(withField(checkpoint().toJson(), "step", "ten")))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("field 'step' must be a 64-bit integer");
        assertThatThrownBy(() -> CheckpointEvent.fromJson(without(checkpoint().toJson(), "location")))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("missing field 'location'");
        assertThatThrownBy(() -> CheckpointEvent.fromJson(withField(checkpoint().toJson(), "createdAt", "yesterday")))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("not an ISO-8601 instant");
        assertThatThrownBy(() -> CheckpointEvent.fromJson(withField(checkpoint().toJson(), "step", -1)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("step must be >= 0");
        assertThatThrownBy(() -> CheckpointEvent.fromJson(eval().toJson()))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("expected a checkpoint event but 'kind' is 'eval'");
        assertThatThrownBy(() -> new CheckpointEvent("x", 0, Map.of(), Map.of("no-partition", 1L), "loc", 0, Instant.EPOCH))
                .hasMessageContaining("'no-partition' is not 'topic:partition'");
    }

    @Test
    void unknownExtraFieldsAreIgnored() {
        byte[] json = withField(checkpoint().toJson(), "addedLater", "fine");
        assertThat(CheckpointEvent.fromJson(json)).isEqualTo(checkpoint());
    }

    // ------------------------------------------------------------------ eval

    @Test
    void evalRoundTripsWithNaNAsNull() throws Exception {
        EvalEvent e = eval();
        byte[] json = e.toJson();
        assertThat(EvalEvent.fromJson(json)).isEqualTo(e);
        var tree = Json.MAPPER.readTree(json);
        assertThat(tree.get("protocol").asText()).isEqualTo("linear");
        assertThat(tree.get("modality").asText()).isEqualTo("audio");
        assertThat(tree.get("metrics").get("top5").isNull()).isTrue();

        EvalEvent noBaseline = new EvalEvent("c", 0, Modality.TEXT, "ag-news", EvalResult.Protocol.FINETUNE, 1.0,
                Double.NaN, null, Instant.EPOCH);
        EvalEvent back = EvalEvent.fromJson(noBaseline.toJson());
        assertThat(back).isEqualTo(noBaseline);
        assertThat(back.result().hasBaseline()).isFalse();
    }

    @Property(tries = 200)
    void evalRoundTripsAnyValues(@ForAll Modality modality, @ForAll EvalResult.Protocol protocol,
                                 @ForAll @DoubleRange(min = 0, max = 1) double acc,
                                 @ForAll @DoubleRange(min = 0, max = 1) double baseline,
                                 @ForAll @LongRange(min = 0) long step, @ForAll double metric) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("m", metric);
        EvalEvent e = new EvalEvent("ckpt", step, modality, "task", protocol, acc, baseline, metrics, Instant.ofEpochSecond(step % 1_000_000));
        EvalEvent back = EvalEvent.fromJson(e.toJson());
        if (Double.isFinite(metric)) {
            assertThat(back).isEqualTo(e);
        } else {
            assertThat(back.metrics().get("m")).isNaN(); // JSON has no infinity: it travels as null
        }
    }

    @Test
    void evalUnknownVersionAndBadValuesAreRejected() {
        assertThatThrownBy(() -> EvalEvent.fromJson(withField(eval().toJson(), "version", 99)))
                .isInstanceOf(WireFormatException.class).hasMessage("unknown eval event version 99 (this build reads 1)");
        assertThatThrownBy(() -> EvalEvent.fromJson(withField(eval().toJson(), "protocol", "zero-shot")))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("unknown protocol 'zero-shot'");
        assertThatThrownBy(() -> EvalEvent.fromJson(withField(eval().toJson(), "accuracy", 1.5)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("accuracy must be in [0, 1]");
        assertThatThrownBy(() -> EvalEvent.fromJson(without(eval().toJson(), "accuracy")))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("missing field 'accuracy'");
        assertThatThrownBy(() -> EvalEvent.fromJson("not json".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class).hasMessageStartingWith("malformed eval event JSON");
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] withField(byte[] json, String field, Object value) {
        try {
            ObjectNode n = (ObjectNode) Json.MAPPER.readTree(json);
            n.set(field, Json.MAPPER.valueToTree(value));
            return Json.MAPPER.writeValueAsBytes(n);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] without(byte[] json, String field) {
        try {
            ObjectNode n = (ObjectNode) Json.MAPPER.readTree(json);
            n.remove(field);
            return Json.MAPPER.writeValueAsBytes(n);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
