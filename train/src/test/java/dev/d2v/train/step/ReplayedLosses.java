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
 */
public final class ReplayedLosses {

    /** Relative tolerance of one step's loss. */
    public static final double RELATIVE = 1e-5;

    private ReplayedLosses() {}

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
