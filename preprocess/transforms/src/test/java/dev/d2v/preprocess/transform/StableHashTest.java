package dev.d2v.preprocess.transform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StableHashTest {

    @Test
    void seedsDependOnSampleAndEpochOnly() {
        assertThat(StableHash.seed("a", 1)).isEqualTo(StableHash.seed("a", 1));
        Set<Long> seeds = new HashSet<>();
        for (int e = 0; e < 100; e++) {
            seeds.add(StableHash.seed("a", e));
            seeds.add(StableHash.seed("b", e));
        }
        assertThat(seeds).hasSize(200);
    }

    @Test
    void partsAreSeparated() {
        assertThat(StableHash.of("ab", "c")).isNotEqualTo(StableHash.of("a", "bc"));
        assertThat(StableHash.of("x")).isEqualTo(StableHash.of("x"));
    }

    @Test
    void badRecordCarriesItsReason() {
        BadRecordException e = new BadRecordException(BadRecordException.NOT_WAV, "no RIFF");
        assertThat(e.reason()).isEqualTo("not-wav");
        assertThat(e).hasMessage("not-wav: no RIFF");
    }
}
