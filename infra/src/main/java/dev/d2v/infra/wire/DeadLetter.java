package dev.d2v.infra.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record that a stage could not process, as it is kept on d2v.deadletter: the original key and value
 * bytes unchanged (so it can be replayed after a fix), where it came from, and why it failed.
 *
 * <pre>
 * key / value            the original record's key and value, byte for byte
 * timestamp              {@code timeMs}, when it failed
 * headers:
 *   d2v.dl.v             "1"            dead-letter header version
 *   original.topic       topic it was read from ("" when it did not come from Kafka)
 *   original.partition   decimal, -1 = unknown
 *   original.offset      decimal, -1 = unknown
 *   stage                which step failed, e.g. "preprocess.audio.decode"
 *   error.class          the exception's class name
 *   error.message        its message plus the root cause's, at most {@value #MAX_ERROR_MESSAGE_CHARS} chars
 *   time                 epoch millis when it failed, decimal
 *   original.header.&lt;k&gt;  every header of the original record (e.g. its raw headers), value unchanged
 * </pre>
 *
 * @param originalHeaders the failed record's own headers, in order
 */
public record DeadLetter(
        String topic,
        int partition,
        long offset,
        byte[] key,
        byte[] value,
        List<Header> originalHeaders,
        String stage,
        String errorClass,
        String errorMessage,
        long timeMs) {

    public static final int VERSION = 1;
    /** A header is stored with every record; stack-trace-sized messages would eat the topic's size budget. */
    public static final int MAX_ERROR_MESSAGE_CHARS = 1000;

    public static final String VERSION_KEY = "d2v.dl.v";
    public static final String ORIGINAL_TOPIC = "original.topic";
    public static final String ORIGINAL_PARTITION = "original.partition";
    public static final String ORIGINAL_OFFSET = "original.offset";
    public static final String STAGE = "stage";
    public static final String ERROR_CLASS = "error.class";
    public static final String ERROR_MESSAGE = "error.message";
    public static final String TIME = "time";
    public static final String ORIGINAL_HEADER_PREFIX = "original.header.";

    public DeadLetter {
        topic = topic == null ? "" : topic;
        if (partition < -1 || offset < -1) {
            throw new IllegalArgumentException("partition and offset must be >= 0, or -1 for unknown: " + partition + "/" + offset);
        }
        if (stage == null || stage.isBlank()) {
            throw new IllegalArgumentException("stage is required: which step failed?");
        }
        errorClass = errorClass == null ? "" : errorClass;
        errorMessage = truncate(errorMessage == null ? "" : errorMessage);
        key = key == null ? null : key.clone();
        value = value == null ? null : value.clone();
        List<Header> hs = new ArrayList<>();
        for (Header h : originalHeaders == null ? List.<Header>of() : originalHeaders) {
            hs.add(new RecordHeader(h.key(), h.value() == null ? null : h.value().clone()));
        }
        originalHeaders = List.copyOf(hs);
    }

    /** Describes a record read from Kafka that failed in {@code stage}. */
    public static DeadLetter of(ConsumerRecord<byte[], byte[]> failed, String stage, Throwable error, long timeMs) {
        return of(failed.topic(), failed.partition(), failed.offset(), failed.key(), failed.value(), failed.headers(),
                stage, error, timeMs);
    }

    /** Describes any failed record; pass -1 for an unknown partition or offset and null for absent headers. */
    public static DeadLetter of(String topic, int partition, long offset, byte[] key, byte[] value, Headers headers,
                                String stage, Throwable error, long timeMs) {
        List<Header> hs = headers == null ? List.of() : Arrays.asList(headers.toArray());
        return new DeadLetter(topic, partition, offset, key, value, hs, stage, error.getClass().getName(),
                describe(error), timeMs);
    }

    /** The message, and the root cause's class and message when there is a different root cause. */
    static String describe(Throwable error) {
        String msg = error.getMessage() == null ? "" : error.getMessage();
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != error) {
            msg += " (root cause " + root.getClass().getName() + ": " + root.getMessage() + ")";
        }
        return msg;
    }

    /** Cuts to {@value #MAX_ERROR_MESSAGE_CHARS} chars without splitting a surrogate pair. */
    static String truncate(String s) {
        if (s.length() <= MAX_ERROR_MESSAGE_CHARS) {
            return s;
        }
        String marker = "...[truncated]";
        int end = MAX_ERROR_MESSAGE_CHARS - marker.length();
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + marker;
    }

    /** The record to send to the dead-letter topic; its key is the original key (same sample, same partition). */
    public ProducerRecord<byte[], byte[]> toProducerRecord(String deadLetterTopic) {
        RecordHeaders h = new RecordHeaders();
        h.add(VERSION_KEY, utf8(Integer.toString(VERSION)));
        h.add(ORIGINAL_TOPIC, utf8(topic));
        h.add(ORIGINAL_PARTITION, utf8(Integer.toString(partition)));
        h.add(ORIGINAL_OFFSET, utf8(Long.toString(offset)));
        h.add(STAGE, utf8(stage));
        h.add(ERROR_CLASS, utf8(errorClass));
        h.add(ERROR_MESSAGE, utf8(errorMessage));
        h.add(TIME, utf8(Long.toString(timeMs)));
        for (Header oh : originalHeaders) {
            h.add(ORIGINAL_HEADER_PREFIX + oh.key(), oh.value());
        }
        return new ProducerRecord<>(deadLetterTopic, null, timeMs > 0 ? timeMs : null, key, value, h);
    }

    /** Reads a record of the dead-letter topic back; missing fields or an unknown version fail clearly. */
    public static DeadLetter fromConsumerRecord(ConsumerRecord<byte[], byte[]> record) {
        Headers h = record.headers();
        String v = RawHeaders.last(h, VERSION_KEY).orElseThrow(() -> new WireFormatException(
                "dead letter at " + record.topic() + "/" + record.partition() + "@" + record.offset()
                        + " has no " + VERSION_KEY + " header: not written by DeadLetter?"));
        if (!v.equals(Integer.toString(VERSION))) {
            throw new WireFormatException("unknown dead-letter header version " + v + " (this build reads " + VERSION + ")");
        }
        List<Header> originals = new ArrayList<>();
        for (Header oh : h) {
            if (oh.key().startsWith(ORIGINAL_HEADER_PREFIX)) {
                originals.add(new RecordHeader(oh.key().substring(ORIGINAL_HEADER_PREFIX.length()), oh.value()));
            }
        }
        try {
            return new DeadLetter(
                    RawHeaders.last(h, ORIGINAL_TOPIC).orElse(""),
                    Integer.parseInt(required(h, ORIGINAL_PARTITION)),
                    Long.parseLong(required(h, ORIGINAL_OFFSET)),
                    record.key(), record.value(), originals,
                    required(h, STAGE),
                    RawHeaders.last(h, ERROR_CLASS).orElse(""),
                    RawHeaders.last(h, ERROR_MESSAGE).orElse(""),
                    Long.parseLong(required(h, TIME)));
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new WireFormatException("invalid dead letter: " + e.getMessage(), e);
        }
    }

    private static String required(Headers h, String key) {
        return RawHeaders.last(h, key).orElseThrow(() -> new WireFormatException("dead letter has no " + key + " header"));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- value semantics over the arrays ----

    @Override
    public byte[] key() {
        return key == null ? null : key.clone();
    }

    @Override
    public byte[] value() {
        return value == null ? null : value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter d
                && topic.equals(d.topic) && partition == d.partition && offset == d.offset
                && Arrays.equals(key, d.key) && Arrays.equals(value, d.value)
                && originalHeaders.equals(d.originalHeaders)
                && stage.equals(d.stage) && errorClass.equals(d.errorClass) && errorMessage.equals(d.errorMessage)
                && timeMs == d.timeMs;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(topic, partition, offset, originalHeaders, stage, errorClass, errorMessage, timeMs);
        return 31 * (31 * h + Arrays.hashCode(key)) + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "DeadLetter[" + topic + "/" + partition + "@" + offset + ", stage=" + stage + ", " + errorClass + ": "
                + errorMessage + ", key=" + (key == null ? "null" : key.length + " bytes")
                + ", value=" + (value == null ? "null" : value.length + " bytes") + ", time=" + timeMs + "]";
    }
}
