package dev.d2v.preprocess.sample;

import dev.d2v.infra.wire.DeadLetter;

/**
 * A raw record that could not become a sample, and why: what the dead-letter sink writes as a
 * {@link DeadLetter} (original key, value and headers; stage, error class and message).
 *
 * @param stage e.g. "preprocess.audio.truncated-audio" (the BadRecordException reason) or "preprocess.image.headers"
 */
public record Rejected(RawRecord raw, String stage, String errorClass, String errorMessage, long timeMs) {

    /** {@code error} as the dead-letter record describes it (message plus root cause, truncated). */
    public static Rejected of(RawRecord raw, String stage, Throwable error, long timeMs) {
        DeadLetter dl = DeadLetter.of(raw.topic(), raw.partition(), raw.offset(), raw.key(), raw.value(),
                raw.kafkaHeaders(), stage, error, timeMs);
        return new Rejected(raw, stage, dl.errorClass(), dl.errorMessage(), timeMs);
    }

    public DeadLetter toDeadLetter() {
        return new DeadLetter(raw.topic(), raw.partition(), raw.offset(), raw.key(), raw.value(), raw.headerList(),
                stage, errorClass, errorMessage, timeMs);
    }
}
