package dev.d2v.train.step;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.assertj.core.data.Offset;

/**
 * The check that a resumed run retrains with the losses of an unbroken one. Not bit for bit: libtorch's CPU kernels
 * are not bitwise reproducible from run to run on every processor (a CI run on another machine differed by 4e-7
 * relative from the third step after a resume, with the first two identical), so losses are compared to 1e-5 of
 * their value. A resume that is actually wrong (optimizer moments, step counter, mask generator, a batch skipped or
 * repeated) moves the next losses by 1e-3 or more.
 *
 * <p>Rarely one run's step is not reproducible at all: in about one fresh process of thirty on a loaded machine, one
 * backward pass gave a gradient a few 1e-6 off (the same forward, the same losses, block 0's attention gradients
 * alone differing; every replay of that step from its checkpoint gave the usual one), and AdamW's early steps
 * amplify such a difference to 1e-5 - 1e-2 of the losses that follow, in whichever of the two runs it happened. The
 * restored state itself is bit-equal to the checkpoint. So {@link #assertSameOnceMore} runs a scenario whose pair
 * differs once more: a wrong resume differs in both, a non-reproducible step in one of them.
 */
public final class ReplayedLosses {

    /** Relative tolerance of one step's loss. */
    public static final double RELATIVE = 1e-5;

    private ReplayedLosses() {}

    /** The losses per step of the unbroken run and of the stopped and resumed one. */
    public record Replay(Map<Long, Double> unbroken, Map<Long, Double> replayed) {}

    /** A scenario that makes both runs from scratch (its own folders and topics for each attempt, 1 or 2). */
    @FunctionalInterface
    public interface Scenario {
        Replay run(int attempt) throws Exception;
    }

    /** The scenario's pair agrees ({@link #assertSame}), or else a second run of the whole scenario does. */
    public static void assertSameOnceMore(Scenario scenario) throws Exception {
        Replay first = scenario.run(1);
        if (!same(first.unbroken(), first.replayed())) {
            Replay second = scenario.run(2);
            assertSame(second.unbroken(), second.replayed());
        }
    }

    /** Whether {@link #assertSame} holds. */
    public static boolean same(Map<Long, Double> unbroken, Map<Long, Double> replayed) {
        try {
            assertSame(unbroken, replayed);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    /** The same steps, each loss within {@link #RELATIVE} of the unbroken run's. */
    public static void assertSame(Map<Long, Double> unbroken, Map<Long, Double> replayed) {
        assertThat(replayed.keySet()).as("steps").containsExactlyInAnyOrderElementsOf(unbroken.keySet());
        unbroken.forEach((step, loss) -> assertSame(step, loss, replayed.get(step)));
    }

    /** One step's loss within {@link #RELATIVE} of the unbroken run's. */
    public static void assertSame(long step, double unbroken, double replayed) {
        assertThat(replayed).as("loss at step %d", step)
                .isCloseTo(unbroken, Offset.offset(RELATIVE * Math.max(1e-12, Math.abs(unbroken))));
    }
}
