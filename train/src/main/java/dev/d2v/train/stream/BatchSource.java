package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointManifest;
import java.time.Duration;
import java.util.Map;

/**
 * Where the training loop takes its minibatches from: the batch topics ({@link KafkaBatchSource}), local data
 * ({@code dev.d2v.train.run.LocalBatchSource}) or memory ({@link MemoryBatchSource}).
 */
public interface BatchSource extends AutoCloseable {

    /**
     * The next record of modality m, waiting at most {@code wait}; null when none arrived in time.
     *
     * @throws IllegalStateException when the source failed for good (its message says why)
     */
    Fetched poll(Modality m, Duration wait) throws InterruptedException;

    /**
     * Records of modality m not yet trained: the end of each partition minus {@code trained} ("topic:partition" ->
     * next offset to train), or minus where reading started for a partition not trained yet. -1 when unknown.
     */
    long lag(Modality m, Map<String, Long> trained);

    /**
     * Where reading resumes after what the loop trained or dead-lettered: {@code trained} ("topic:partition" -> next
     * offset) as checkpoint offsets, unless the source keeps its own position (local data: epoch and item).
     */
    default CheckpointManifest.DataPosition position(Map<String, Long> trained) {
        return new CheckpointManifest.DataPosition(trained, Map.of());
    }

    @Override
    void close();
}
