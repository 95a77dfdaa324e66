package dev.d2v.train.loop;

import dev.d2v.infra.Modality;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.stream.BatchSource;
import dev.d2v.train.stream.Fetched;
import java.time.Duration;
import java.util.Map;

/** Endless 8x8 image batches of 4, batch o at offset o of partition "images"/0, for loop tests. */
final class EndlessImages implements BatchSource {
    private long offset;

    @Override
    public Fetched poll(Modality m, Duration wait) {
        long o = offset++;
        return new Fetched(m, "images", 0, o, SyntheticBatches.image(4, 1, 8, o), null);
    }

    @Override
    public long lag(Modality m, Map<String, Long> trained) {
        return -1;
    }

    @Override
    public void close() {}
}
