package dev.d2v.train.run;

import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.stream.BatchSource;
import dev.d2v.train.stream.Fetched;
import java.time.Duration;
import java.util.Map;

/**
 * Offline pretraining's batches: the local loader's endless iterator over one modality's data (epoch after epoch,
 * order and augmentation seeded). Its position is the iterator's (checkpoint extras {@code epoch} and
 * {@code next_item}), not offsets; the record's "offset" is the count of batches taken in this run.
 */
public final class LocalBatchSource implements BatchSource {

    private final Modality modality;
    private final LocalBatches.BatchIterator batches;
    private long taken;

    public LocalBatchSource(Modality modality, LocalBatches.BatchIterator batches) {
        this.modality = modality;
        this.batches = batches;
    }

    /** Where a checkpoint's data position says to resume (the start when it has none). */
    public static LocalBatches.Position resumeAt(CheckpointManifest.DataPosition p) {
        String epoch = p.extra().get("epoch");
        String next = p.extra().get("next_item");
        return epoch == null ? LocalBatches.Position.START
                : new LocalBatches.Position(Long.parseLong(epoch), Integer.parseInt(next));
    }

    /** The next batch at once; never null for the modality of this source (the iterator has no end). */
    @Override
    public Fetched poll(Modality m, Duration wait) {
        if (m != modality) {
            return null;
        }
        return new Fetched(m, "local." + m.id(), 0, taken++, batches.next(), null);
    }

    @Override
    public long lag(Modality m, Map<String, Long> trained) {
        return -1;
    }

    @Override
    public CheckpointManifest.DataPosition position(Map<String, Long> trained) {
        LocalBatches.Position p = batches.position();
        return new CheckpointManifest.DataPosition(Map.of(),
                Map.of("epoch", Long.toString(p.epoch()), "next_item", Integer.toString(p.nextItem())));
    }

    @Override
    public void close() {}
}
