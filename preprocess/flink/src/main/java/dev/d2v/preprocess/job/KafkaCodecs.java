package dev.d2v.preprocess.job;

import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.Rejected;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/** The Kafka (de)serialisation schemas of the preprocessing jobs; each a one-liner over a wire class. */
final class KafkaCodecs {
    private KafkaCodecs() {
    }

    /** A raw record, everything kept (key, value, headers, position). */
    static final class RawRecords implements KafkaRecordDeserializationSchema<RawRecord> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
            out.collect(RawRecord.of(record));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }

    /** An encoded minibatch as the value; no key (the producer spreads batches over the partitions). */
    record Batches(String topic) implements KafkaRecordSerializationSchema<byte[]> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(byte[] batch, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, null, null, null, batch);
        }
    }

    /** A rejected record as a {@link dev.d2v.infra.wire.DeadLetter}. */
    record DeadLetters(String topic) implements KafkaRecordSerializationSchema<Rejected> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(Rejected r, KafkaSinkContext ctx, Long timestamp) {
            return r.toDeadLetter().toProducerRecord(topic);
        }
    }
}
