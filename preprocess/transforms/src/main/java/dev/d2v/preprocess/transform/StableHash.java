package dev.d2v.preprocess.transform;

import java.nio.charset.StandardCharsets;

/**
 * Hashes that must not change between JVMs, versions or runs (String.hashCode and Objects.hash are
 * not promised to be stable across implementations of the records they hash): FNV-1a 64 over UTF-8
 * text, and a SplitMix64 finaliser for mixing numbers.
 */
public final class StableHash {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private StableHash() {}

    /** FNV-1a 64 of the UTF-8 bytes of the parts joined by '\u001f' (unit separator). */
    public static long of(String... parts) {
        long h = FNV_OFFSET;
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                h = (h ^ 0x1f) * FNV_PRIME;
            }
            for (byte b : parts[i].getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ (b & 0xff)) * FNV_PRIME;
            }
        }
        return mix(h);
    }

    /** SplitMix64 finaliser: a bijection that spreads every input bit over the output. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * Seed of a record's augmentation randomness: a function of (sample id, epoch) only, so a replay of
     * the same record in the same epoch gives identical crops and flips, and a new epoch gives new ones.
     */
    public static long seed(String sampleId, long epoch) {
        return mix(of("seed", sampleId) ^ mix(epoch + 0x9e3779b97f4a7c15L));
    }
}
