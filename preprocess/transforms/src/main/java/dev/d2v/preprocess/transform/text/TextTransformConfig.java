package dev.d2v.preprocess.transform.text;

import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.TransformConfig;

/** Text transform settings. Output is blocks of blockLength int token ids (see TextEncoder). */
public record TextTransformConfig(
        // STANDARD: Unicode word-break rules (UAX #29), fine for Latin scripts; ICU adds dictionary
        // segmentation for Thai, Lao, Khmer, Myanmar and CJK
        AnalyzerKind analyzer,
        // words kept by frequency: 30k is BERT-sized and fits a small embedding table
        int vocabSize,
        // hash buckets for out-of-vocabulary words, so unseen words keep distinct (shared) ids instead of all [UNK]
        int buckets,
        // ids per block including [CLS] and [SEP]: 64 covers a sentence or a short review head
        int blockLength,
        // false: a long text is truncated to one block; true: split into consecutive blocks (up to maxBlocks)
        boolean splitLongText,
        // cap on blocks from one record when splitting, so one huge record cannot flood a batch
        int maxBlocks,
        // encoded records above this are refused before decoding: 1 MB of UTF-8 is far above one document
        long maxBytes) implements TransformConfig {

    public enum AnalyzerKind { STANDARD, ICU }

    public TextTransformConfig {
        if (analyzer == null) {
            analyzer = AnalyzerKind.STANDARD;
        }
        if (vocabSize < 1 || buckets < 0 || blockLength < 3 || maxBlocks < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("text config needs vocabSize >= 1, buckets >= 0, blockLength >= 3"
                    + " ([CLS] token [SEP]), maxBlocks >= 1, maxBytes >= 1");
        }
    }

    public static TextTransformConfig defaults() {
        return new TextTransformConfig(AnalyzerKind.STANDARD, 30_000, 1024, 64, false, 8, 1L << 20);
    }

    public TextTransformConfig withAnalyzer(AnalyzerKind kind) {
        return new TextTransformConfig(kind, vocabSize, buckets, blockLength, splitLongText, maxBlocks, maxBytes);
    }

    public TextTransformConfig withVocab(int size, int nBuckets) {
        return new TextTransformConfig(analyzer, size, nBuckets, blockLength, splitLongText, maxBlocks, maxBytes);
    }

    public TextTransformConfig withBlocks(int length, boolean split, int max) {
        return new TextTransformConfig(analyzer, vocabSize, buckets, length, split, max, maxBytes);
    }

    /** Stable hash of everything that changes the output (maxBytes only gates acceptance, so it is left out). */
    @Override
    public long hash() {
        return StableHash.of("text-transform", "v1", "analyzer=" + analyzer, "vocab=" + vocabSize,
                "buckets=" + buckets, "block=" + blockLength, "split=" + splitLongText, "maxBlocks=" + maxBlocks);
    }

    /** {@code [blockLength]}: the ids of one token block. */
    @Override
    public int[] sampleShape() {
        return new int[] {blockLength};
    }
}
