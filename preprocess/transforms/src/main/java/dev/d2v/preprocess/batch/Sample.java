package dev.d2v.preprocess.batch;

import java.util.Arrays;
import java.util.Objects;

/**
 * One transformed sample, ready to be batched: its row of the batch payload, already in the wire dtype
 * (image uint8 {@code [C, H, W]}, audio fp16 little-endian {@code [T, mels]}, text int32 little-endian
 * {@code [L]}), and the metadata the minibatch carries per sample.
 *
 * <p>A flat record of Flink-serialisable fields (String, byte[], int, long) so that the batcher's state is
 * written by Flink's own POJO serializer, never by Kryo.
 *
 * @param sampleId    the raw record key; a text record split into blocks gives {@code id#k} for k &gt; 0
 * @param payload     {@code product(sampleShape) * dtype.width()} bytes; the record takes ownership
 * @param validLength valid length along the sample's first axis (audio frames, text tokens; image: C)
 * @param label       class id, -1 = none
 * @param eventTimeMs when the raw sample was produced (epoch ms), 0 = unknown
 */
public record Sample(String sampleId, byte[] payload, int validLength, int label, long eventTimeMs) {

    public Sample {
        Objects.requireNonNull(sampleId, "sampleId");
        Objects.requireNonNull(payload, "payload");
        if (validLength < 0 || label < -1) {
            throw new IllegalArgumentException("sample " + sampleId + ": validLength must be >= 0 and label >= -1, got "
                    + validLength + " / " + label);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sample s && sampleId.equals(s.sampleId) && Arrays.equals(payload, s.payload)
                && validLength == s.validLength && label == s.label && eventTimeMs == s.eventTimeMs;
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(sampleId, validLength, label, eventTimeMs) + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "Sample[" + sampleId + ", " + payload.length + " bytes, valid=" + validLength + ", label=" + label + "]";
    }
}
