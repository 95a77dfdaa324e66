package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Minibatches already in memory, cycled forever per modality (topic "memory.&lt;modality&gt;", partition 0, the
 * offset counting up): the baseline of {@code bench train-stream}, where nothing waits for data.
 */
public final class MemoryBatchSource implements BatchSource {

    private final Map<Modality, List<Minibatch>> batches;
    private final Map<Modality, Long> next = new EnumMap<>(Modality.class);

    public MemoryBatchSource(Map<Modality, List<Minibatch>> batches) {
        batches.forEach((m, list) -> {
            if (list.isEmpty()) {
                throw new IllegalArgumentException("no " + m.id() + " batches given");
            }
        });
        this.batches = new EnumMap<>(batches);
    }

    @Override
    public Fetched poll(Modality m, Duration wait) {
        List<Minibatch> list = batches.get(m);
        if (list == null) {
            return null;
        }
        long offset = next.merge(m, 1L, Long::sum) - 1;
        return new Fetched(m, "memory." + m.id(), 0, offset, list.get((int) (offset % list.size())), null);
    }

    @Override
    public long lag(Modality m, Map<String, Long> trained) {
        return 0;
    }

    @Override
    public void close() {}
}
