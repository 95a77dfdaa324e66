package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;

/**
 * One record taken from a batch topic by the prefetch thread: a decoded minibatch, or the dead letter of a record
 * that did not decode. Either way its offset counts as consumed once the loop has handled it.
 *
 * @param batch   the decoded minibatch; null when {@code failure} is set
 * @param failure what goes to d2v.deadletter (stage "train"); null for a good record
 */
public record Fetched(Modality modality, String topic, int partition, long offset, Minibatch batch, DeadLetter failure) {

    public Fetched {
        if ((batch == null) == (failure == null)) {
            throw new IllegalArgumentException("a fetched record is either a batch or a failure, not both or neither");
        }
    }

    /** Key of the topic-partition in checkpoint offsets ("topic:partition"). */
    public String offsetKey() {
        return CheckpointEvent.offsetKey(topic, partition);
    }
}
