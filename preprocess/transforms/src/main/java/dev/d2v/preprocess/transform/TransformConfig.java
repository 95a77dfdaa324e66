package dev.d2v.preprocess.transform;

import java.io.Serializable;

/**
 * The settings of one modality's transform: {@code ImageTransformConfig}, {@code AudioTransformConfig} or
 * {@code TextTransformConfig}. Serializable: a config travels inside the Flink job graph.
 */
public interface TransformConfig extends Serializable {

    /**
     * Stable 64-bit hash of every setting that changes the output (limits that only decide whether a record is
     * accepted are left out): the batch's preprocessing config hash, for text together with the vocabulary's.
     */
    long hash();

    /** One transformed sample's dims: image {@code [C, H, W]}, audio {@code [frames, mels]}, text {@code [blockLength]}. */
    int[] sampleShape();
}
