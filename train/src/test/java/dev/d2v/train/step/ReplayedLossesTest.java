package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayedLossesTest {

    private static final Map<Long, Double> UNBROKEN = Map.of(0L, 13.14, 1L, 12.5);
    private static final Map<Long, Double> OFF = Map.of(0L, 13.14, 1L, 12.5 * (1 + 1e-4));

    @Test
    void aPairThatDiffersOnceIsRunAgainAndAgreesTheSecondTime() throws Exception {
        List<Integer> attempts = new ArrayList<>();
        ReplayedLosses.assertSameOnceMore(attempt -> {
            attempts.add(attempt);
            return new ReplayedLosses.Replay(UNBROKEN, attempt == 1 ? OFF : UNBROKEN);
        });
        assertThat(attempts).containsExactly(1, 2);
    }

    @Test
    void aPairThatAgreesIsNotRunAgain() throws Exception {
        List<Integer> attempts = new ArrayList<>();
        ReplayedLosses.assertSameOnceMore(attempt -> {
            attempts.add(attempt);
            return new ReplayedLosses.Replay(UNBROKEN, Map.of(0L, 13.14, 1L, 12.5 * (1 + 1e-6)));
        });
        assertThat(attempts).containsExactly(1);
    }

    @Test
    void aResumeThatIsWrongEveryTimeFails() {
        assertThatThrownBy(() -> ReplayedLosses.assertSameOnceMore(attempt -> new ReplayedLosses.Replay(UNBROKEN, OFF)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("loss at step 1");
        assertThatThrownBy(() -> ReplayedLosses.assertSameOnceMore(
                attempt -> new ReplayedLosses.Replay(UNBROKEN, Map.of(0L, 13.14))))
                .isInstanceOf(AssertionError.class).hasMessageContaining("steps");
    }
}
