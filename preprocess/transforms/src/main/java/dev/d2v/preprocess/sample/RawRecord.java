package dev.d2v.preprocess.sample;

import dev.d2v.infra.wire.RawHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One record of d2v.raw.&lt;modality&gt; as the preprocessing jobs carry it: where it was read, its key
 * (the sample id, UTF-8) and value (the file's bytes), its timestamp and its headers as parallel arrays.
 * Flat fields only (String, primitives, byte[], String[], byte[][]) so Flink serialises it without Kryo.
 *
 * @param headerKeys   header keys in record order
 * @param headerValues header values, same order; an element may be null (Kafka allows null header values)
 */
public record RawRecord(String topic, int partition, long offset, long timestampMs, byte[] key, byte[] value,
                        String[] headerKeys, byte[][] headerValues) {

    public RawRecord {
        topic = topic == null ? "" : topic;
        headerKeys = headerKeys == null ? new String[0] : headerKeys;
        headerValues = headerValues == null ? new byte[0][] : headerValues;
        if (headerKeys.length != headerValues.length) {
            throw new IllegalArgumentException("raw record has " + headerKeys.length + " header keys but "
                    + headerValues.length + " values");
        }
    }

    /** The record as read by a Kafka consumer. */
    public static RawRecord of(ConsumerRecord<byte[], byte[]> r) {
        Header[] hs = r.headers().toArray();
        String[] keys = new String[hs.length];
        byte[][] values = new byte[hs.length][];
        for (int i = 0; i < hs.length; i++) {
            keys[i] = hs[i].key();
            values[i] = hs[i].value();
        }
        return new RawRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(), keys, values);
    }

    /** A record that did not come from Kafka (a file, a test): topic "", partition and offset -1. */
    public static RawRecord of(String sampleId, byte[] value, RawHeaders headers) {
        Header[] hs = headers.toKafka().toArray();
        String[] keys = new String[hs.length];
        byte[][] values = new byte[hs.length][];
        for (int i = 0; i < hs.length; i++) {
            keys[i] = hs[i].key();
            values[i] = hs[i].value();
        }
        return new RawRecord("", -1, -1, headers.eventTimeMs(), sampleId.getBytes(StandardCharsets.UTF_8), value, keys,
                values);
    }

    /** The sample id: the key as UTF-8, or null when the record has no key. */
    public String sampleId() {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    /** The headers as Kafka headers (for RawHeaders.fromKafka and the dead letter). */
    public Headers kafkaHeaders() {
        RecordHeaders h = new RecordHeaders();
        for (Header header : headerList()) {
            h.add(header);
        }
        return h;
    }

    public List<Header> headerList() {
        List<Header> out = new ArrayList<>(headerKeys.length);
        for (int i = 0; i < headerKeys.length; i++) {
            out.add(new RecordHeader(headerKeys[i], headerValues[i]));
        }
        return out;
    }

    @Override
    public String toString() {
        return "RawRecord[" + topic + "/" + partition + "@" + offset + ", id=" + sampleId() + ", "
                + (value == null ? "null" : value.length + " bytes") + ", " + headerKeys.length + " headers]";
    }
}
