package dev.d2v.preprocess.transform.text;

/**
 * One fixed-length block: ids int[L] = [CLS] t1 .. tk [SEP] [PAD] ... [PAD]; validLength = k + 2
 * (positions >= validLength are padding and must be masked).
 */
public record TokenBlock(int[] ids, int validLength) {
    public TokenBlock {
        if (validLength < 2 || validLength > ids.length) {
            throw new IllegalArgumentException("block validLength " + validLength + " outside 2.." + ids.length);
        }
    }
}
