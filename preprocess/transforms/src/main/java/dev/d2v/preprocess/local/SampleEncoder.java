package dev.d2v.preprocess.local;

import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.DType;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.audio.AudioFeatures;
import dev.d2v.preprocess.transform.audio.AudioTransform;
import dev.d2v.preprocess.transform.image.ImageTransform;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextEncoder;
import dev.d2v.preprocess.transform.text.TokenBlock;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One raw record to its samples in wire form, with the shared transform classes; the sample layout matches the
 * batch topics (WIRE.md): image uint8 [C, H, W]; audio fp16 [frames, mels], valid = valid frames; text int32 [L],
 * valid = block length, one sample per token block, ids {@code id}, {@code id#1}, {@code id#2}... Not thread-safe
 * (the audio transform keeps FFT buffers).
 */
final class SampleEncoder {

    /** One sample: its id, payload bytes (one row of the batch) and valid length along axis 1. */
    record Sample(String id, byte[] payload, int validLength) {}

    private final Modality modality;
    private final Transforms transforms;
    private final ImageTransform image;
    private final AudioTransform audio;
    private final TextEncoder text;

    SampleEncoder(Modality modality, Transforms transforms, Vocabulary vocabulary) {
        this.modality = modality;
        this.transforms = transforms;
        this.image = modality == Modality.IMAGE ? new ImageTransform(transforms.image()) : null;
        this.audio = modality == Modality.AUDIO ? new AudioTransform(transforms.audio()) : null;
        if (modality == Modality.TEXT) {
            Objects.requireNonNull(vocabulary, "text needs a vocabulary");
            this.text = new TextEncoder(transforms.text(), new TextAnalysis(transforms.text().analyzer()), vocabulary);
        } else {
            this.text = null;
        }
    }

    /** @throws dev.d2v.preprocess.transform.BadRecordException when the bytes cannot be transformed */
    List<Sample> apply(byte[] raw, String id, long epoch, Mode mode) {
        return switch (modality) {
            case IMAGE -> List.of(new Sample(id, image.apply(raw, id, epoch, mode), transforms.image().channels()));
            case AUDIO -> {
                AudioFeatures f = audio.apply(raw, id, epoch, mode);
                yield List.of(new Sample(id, Minibatch.fp16Bytes(f.values()), f.validFrames()));
            }
            case TEXT -> {
                List<TokenBlock> blocks = text.encode(raw);
                List<Sample> out = new ArrayList<>(blocks.size());
                for (int b = 0; b < blocks.size(); b++) {
                    TokenBlock t = blocks.get(b);
                    out.add(new Sample(b == 0 ? id : id + "#" + b, Minibatch.int32Bytes(t.ids()), t.validLength()));
                }
                yield out;
            }
        };
    }

    /** Shape of one sample: image [C, H, W], audio [frames, mels], text [L]. */
    int[] sampleShape() {
        return switch (modality) {
            case IMAGE -> new int[] {transforms.image().channels(), transforms.image().size(), transforms.image().size()};
            case AUDIO -> new int[] {transforms.audio().frames(), transforms.audio().mels()};
            case TEXT -> new int[] {transforms.text().blockLength()};
        };
    }

    DType dtype() {
        return switch (modality) {
            case IMAGE -> DType.UINT8;
            case AUDIO -> DType.FP16;
            case TEXT -> DType.INT32;
        };
    }

    /** The batch's preprocessing config hash; for text it covers the vocabulary too. */
    long configHash() {
        return transforms.configHash(modality, modality == Modality.TEXT ? text.vocabulary() : null);
    }
}
