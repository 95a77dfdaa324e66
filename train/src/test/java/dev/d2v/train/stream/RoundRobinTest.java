package dev.d2v.train.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

    @Test
    void weightsInterleaveSmoothlyAndTheTurnIsAFunctionOfTheStep() {
        Map<Modality, Integer> w = new EnumMap<>(Modality.class);
        w.put(Modality.IMAGE, 2);
        w.put(Modality.AUDIO, 1);
        RoundRobin rr = new RoundRobin(w);
        // smooth weighted round-robin by hand: currents (image, audio) (2,1) -> image (-1,1); (1,2) -> audio (1,-1);
        // (3,0) -> image (0,0)
        assertThat(rr.cycle()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.IMAGE);
        assertThat(rr.turnOrder(0)).containsExactly(Modality.IMAGE, Modality.AUDIO);
        assertThat(rr.turnOrder(1)).containsExactly(Modality.AUDIO, Modality.IMAGE);
        assertThat(rr.turnOrder(2)).containsExactly(Modality.IMAGE, Modality.AUDIO);
        assertThat(rr.turnOrder(4)).containsExactly(Modality.AUDIO, Modality.IMAGE);
    }

    @Test
    void threeModalitiesWithEqualWeightsTakeTurnsInEnumOrder() {
        Map<Modality, Integer> w = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            w.put(m, 1);
        }
        RoundRobin rr = new RoundRobin(w);
        assertThat(rr.cycle()).containsExactly(Modality.values());
        assertThat(rr.turnOrder(5)).containsExactly(Modality.TEXT, Modality.IMAGE, Modality.AUDIO);
    }
}
