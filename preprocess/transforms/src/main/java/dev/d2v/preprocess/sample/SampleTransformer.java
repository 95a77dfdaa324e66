package dev.d2v.preprocess.sample;

import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.RawHeaders;
import dev.d2v.infra.wire.WireFormatException;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.audio.AudioFeatures;
import dev.d2v.preprocess.transform.audio.AudioTransform;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransform;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextEncoder;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.TokenBlock;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A raw record to its samples, for one modality: read the raw headers, run the modality's transform, put
 * the result in the wire dtype. Image and audio give one sample per record; text gives one per token block
 * ({@code id}, then {@code id#1}, {@code id#2}... when splitLongText is on).
 *
 * <p>Mode: records whose split header is test/eval/val/validation get the deterministic EVAL transform,
 * all others TRAIN augmentation seeded by (sample id, epoch). Label: a non-negative integer label header
 * is the class id, anything else -1 (the pretraining stream needs no labels; probes read their own data).
 * Event time: the event-time header, else the Kafka timestamp.
 *
 * <p>The Flink job and the offline loader ({@code LocalBatches}) both make their samples here.
 * Not thread-safe (the audio transform keeps FFT buffers): one instance per worker thread.
 */
public final class SampleTransformer {

    /** Dead-letter reason of a record without a key: a sample needs an id for lineage and seeding. */
    public static final String MISSING_KEY = "missing-key";
    /** Dead-letter reason of a key that is not a usable sample id: longer than {@value #MAX_KEY_BYTES} bytes or not UTF-8. */
    public static final String INVALID_KEY = "invalid-key";
    /**
     * Longest key accepted, in UTF-8 bytes. A sample id travels in every minibatch (u16 length prefix), every
     * lineage log line and every seed: ids are names, not payloads. Text blocks append {@code #k} to it.
     */
    public static final int MAX_KEY_BYTES = 1024;
    /** Dead-letter reason of a record whose transform ran out of heap or stack. */
    public static final String RESOURCE_LIMIT = "resource-limit";
    static final Set<String> EVAL_SPLITS = Set.of("test", "eval", "val", "validation");

    private final TransformSpec spec;
    private final ImageTransform image;
    private final AudioTransform audio;
    private final TextEncoder text;

    SampleTransformer(TransformSpec spec) {
        this.spec = spec;
        this.image = spec.config() instanceof ImageTransformConfig c ? new ImageTransform(c) : null;
        this.audio = spec.config() instanceof AudioTransformConfig c ? new AudioTransform(c) : null;
        this.text = spec.config() instanceof TextTransformConfig c
                ? new TextEncoder(c, new TextAnalysis(c.analyzer()), spec.loadVocabulary()) : null;
    }

    /**
     * @return one sample (image, audio) or one per token block (text)
     * @throws BadRecordException the value cannot be transformed, or the record has no key
     * @throws WireFormatException the raw headers are missing or of an unknown version
     */
    public List<Sample> apply(RawRecord r) {
        String id = sampleId(r);
        RawHeaders h = RawHeaders.fromKafka(r.kafkaHeaders());
        long time = h.eventTimeMs() > 0 ? h.eventTimeMs() : Math.max(0, r.timestampMs());
        return apply(id, r.value(), spec.epoch(), mode(h.split()), label(h.label()), time);
    }

    /**
     * One record's value to its samples in the wire dtype, for a caller that has already decided the mode, label,
     * epoch and event time ({@link #apply(RawRecord)} reads them from the record; the offline loader from its
     * options and label index). Image: {@code [C, H, W]} uint8, valid = C; audio: {@code [frames, mels]} fp16,
     * valid = the valid frames; text: one {@code [L]} int32 sample per token block, valid = the block's length,
     * ids {@code id}, {@code id#1}, {@code id#2}...
     *
     * @param epoch augmentation seed part with the sample id (TRAIN); EVAL ignores both
     * @param label class id, -1 = none
     * @throws BadRecordException the value cannot be transformed
     */
    public List<Sample> apply(String id, byte[] value, long epoch, Mode mode, int label, long eventTimeMs) {
        return switch (spec.modality()) {
            case IMAGE -> {
                byte[] chw = image.apply(value, id, epoch, mode);
                yield List.of(new Sample(id, chw, image.config().channels(), label, eventTimeMs));
            }
            case AUDIO -> {
                AudioFeatures f = audio.apply(value, id, epoch, mode);
                yield List.of(new Sample(id, Minibatch.fp16Bytes(f.values()), f.validFrames(), label, eventTimeMs));
            }
            case TEXT -> {
                List<TokenBlock> blocks = text.encode(value);
                List<Sample> out = new ArrayList<>(blocks.size());
                for (int k = 0; k < blocks.size(); k++) {
                    TokenBlock b = blocks.get(k);
                    out.add(new Sample(k == 0 ? id : id + "#" + k, Minibatch.int32Bytes(b.ids()), b.validLength(), label,
                            eventTimeMs));
                }
                yield out;
            }
        };
    }

    /** The record's key as a sample id, refused when missing, too long or not UTF-8 (two such keys could collide). */
    static String sampleId(RawRecord r) {
        byte[] key = r.key();
        String where = "raw record " + r.topic() + "/" + r.partition() + "@" + r.offset();
        if (key == null || key.length == 0) {
            throw new BadRecordException(MISSING_KEY, where + " has no key (the sample id)");
        }
        if (key.length > MAX_KEY_BYTES) {
            throw new BadRecordException(INVALID_KEY, where + " has a key of " + key.length + " bytes; a sample id"
                    + " is at most " + MAX_KEY_BYTES);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(key)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRecordException(INVALID_KEY, where + " has a key that is not UTF-8", e);
        }
    }

    /** EVAL for held-out splits, TRAIN otherwise (no split header = a pretraining record). */
    static Mode mode(Optional<String> split) {
        return split.map(s -> EVAL_SPLITS.contains(s.trim().toLowerCase(Locale.ROOT)) ? Mode.EVAL : Mode.TRAIN)
                .orElse(Mode.TRAIN);
    }

    /** "7" -> 7; no label, a negative or a non-numeric label -> -1. */
    static int label(Optional<String> label) {
        if (label.isEmpty()) {
            return -1;
        }
        try {
            return Math.max(-1, Integer.parseInt(label.get().trim()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Dead-letter stage of a failure: preprocess.&lt;modality&gt;.&lt;reason&gt;. */
    public String stage(Throwable error) {
        String what = error instanceof BadRecordException b ? b.reason()
                : error instanceof WireFormatException ? "headers"
                : error instanceof VirtualMachineError ? RESOURCE_LIMIT : "transform";   // another Error: "transform"
        return "preprocess." + spec.modality().id() + "." + what;
    }
}
