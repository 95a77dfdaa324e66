package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One record taken from a batch topic by the prefetch thread: a decoded minibatch, or the dead letter of a record
 * that did not decode. Either way its offset counts as consumed once the loop has handled it.
 *
 * @param batch   the decoded minibatch; null when {@code failure} is set
 * @param failure what goes to d2v.deadletter; null for a good record
 * @param record  the Kafka record it came from, kept so that a batch refused later (by the model's checks or a
 *                failed step) goes to the dead-letter topic byte for byte; null for batches not read from Kafka
 */
public record Fetched(Modality modality, String topic, int partition, long offset, Minibatch batch, DeadLetter failure,
                      ConsumerRecord<byte[], byte[]> record) {

    public Fetched {
        if ((batch == null) == (failure == null)) {
            throw new IllegalArgumentException("a fetched record is either a batch or a failure, not both or neither");
        }
    }

    /** A batch or failure that did not come from Kafka (offline sources, tests). */
    public Fetched(Modality modality, String topic, int partition, long offset, Minibatch batch, DeadLetter failure) {
        this(modality, topic, partition, offset, batch, failure, null);
    }

    /** Key of the topic-partition in checkpoint offsets ("topic:partition"). */
    public String offsetKey() {
        return CheckpointEvent.offsetKey(topic, partition);
    }

    /** The dead letter of this batch, refused in {@code stage} for {@code error}: the original record when known. */
    public DeadLetter reject(String stage, Throwable error) {
        long now = System.currentTimeMillis();
        return record != null ? DeadLetter.of(record, stage, error, now)
                : DeadLetter.of(topic, partition, offset, null, null, null, stage, error, now);
    }
}
