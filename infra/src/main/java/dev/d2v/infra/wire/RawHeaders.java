package dev.d2v.infra.wire;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of a raw record on d2v.raw.&lt;modality&gt;. Key = sample id (UTF-8), value = the file's bytes.
 *
 * <pre>
 * d2v.v            "1"          raw header format version (a reader refuses versions it does not know)
 * content-type     image/png, image/jpeg, audio/wav, text/plain; charset=utf-8
 * source           where it came from: "mnist:train/00017", "file:/data/x.png"
 * label            optional class label (string)
 * split            optional: train or test
 * event-time       optional: epoch millis when the sample was produced (sample freshness)
 * </pre>
 */
public record RawHeaders(String contentType, String source, Optional<String> label, Optional<String> split, long eventTimeMs) {

    public static final int VERSION = 1;
    public static final String VERSION_KEY = "d2v.v";
    public static final String CONTENT_TYPE = "content-type";
    public static final String SOURCE = "source";
    public static final String LABEL = "label";
    public static final String SPLIT = "split";
    public static final String EVENT_TIME = "event-time";

    public RawHeaders {
        if (contentType == null || contentType.isBlank()) {
            throw new IllegalArgumentException("content type is required");
        }
        source = source == null ? "" : source;
        label = label == null ? Optional.empty() : label;
        split = split == null ? Optional.empty() : split;
    }

    public Headers toKafka() {
        RecordHeaders h = new RecordHeaders();
        h.add(VERSION_KEY, bytes(Integer.toString(VERSION)));
        h.add(CONTENT_TYPE, bytes(contentType));
        h.add(SOURCE, bytes(source));
        label.ifPresent(l -> h.add(LABEL, bytes(l)));
        split.ifPresent(s -> h.add(SPLIT, bytes(s)));
        if (eventTimeMs > 0) {
            h.add(EVENT_TIME, bytes(Long.toString(eventTimeMs)));
        }
        return h;
    }

    /** Reads headers; a missing or unknown version fails with a message naming it. */
    public static RawHeaders fromKafka(Headers headers) {
        String v = last(headers, VERSION_KEY)
                .orElseThrow(() -> new WireFormatException("raw record has no " + VERSION_KEY + " header"));
        if (!v.equals(Integer.toString(VERSION))) {
            throw new WireFormatException("unknown raw header version " + v + " (this build reads version " + VERSION + ")");
        }
        String ct = last(headers, CONTENT_TYPE)
                .orElseThrow(() -> new WireFormatException("raw record has no " + CONTENT_TYPE + " header"));
        long et = last(headers, EVENT_TIME).map(RawHeaders::parseEventTime).orElse(0L);
        return new RawHeaders(ct, last(headers, SOURCE).orElse(""), last(headers, LABEL), last(headers, SPLIT), et);
    }

    private static long parseEventTime(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new WireFormatException("raw record header " + EVENT_TIME + " is not epoch millis: '" + v + "'");
        }
    }

    static Optional<String> last(Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null || h.value() == null ? Optional.empty() : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
