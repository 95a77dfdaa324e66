package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult.Protocol;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PromotionEventTest {

    private static final Instant AT = Instant.parse("2026-12-07T07:00:00Z");

    @Test
    void roundTripsFirstAndLaterPromotions() {
        PromotionEvent first = new PromotionEvent(Modality.IMAGE, "step-000000100-ab", 100, "/ck/step-000000100",
                "fashion-mnist", Protocol.LINEAR, 0.84, null, Double.NaN, null, AT);
        PromotionEvent later = new PromotionEvent(Modality.IMAGE, "step-000000200-cd", 200, "/ck/step-000000200",
                "fashion-mnist", Protocol.LINEAR, 0.86, "step-000000100-ab", 0.84, "/promoted/image/step-000000200", AT);
        for (PromotionEvent e : new PromotionEvent[] {first, later}) {
            PromotionEvent back = PromotionEvent.fromJson(e.toJson());
            assertThat(back.checkpointId()).isEqualTo(e.checkpointId());
            assertThat(back.previousCheckpoint()).isEqualTo(e.previousCheckpoint());
            assertThat(back.exportPackage()).isEqualTo(e.exportPackage());
            assertThat(back.accuracy()).isEqualTo(e.accuracy());
            assertThat(back.promotedAt()).isEqualTo(AT);
        }
        assertThat(PromotionEvent.fromJson(first.toJson()).previousAccuracy()).isNaN();
        assertThat(new String(first.toJson(), StandardCharsets.UTF_8)).contains("\"kind\":\"promotion\"").contains("\"version\":1");
        assertThat(first.key()).isEqualTo("image".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownVersionAMissingAccuracyOrAnotherKindIsRefused() {
        String ok = new String(new PromotionEvent(Modality.TEXT, "c", 1, "/c", "wordnet", Protocol.KNN, 0.5, null,
                Double.NaN, null, AT).toJson(), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> PromotionEvent.fromJson(ok.replace("\"version\":1", "\"version\":7").getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> PromotionEvent.fromJson(ok.replace("\"accuracy\":0.5,", "").getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("accuracy");
        assertThatThrownBy(() -> PromotionEvent.fromJson(ok.replace("\"kind\":\"promotion\"", "\"kind\":\"eval\"")
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(WireFormatException.class);
    }
}
