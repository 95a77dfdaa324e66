package dev.d2v.infra.wire;

/**
 * Element types of a minibatch payload. Compact on the wire (uint8 pixels, fp16 spectrograms, int32 token
 * ids); normalisation to fp32 happens on the device. The wire id is stable forever: never reuse a retired id.
 * Every multi-byte type is little-endian in the payload.
 */
public enum DType {
    UINT8(1, 1),
    FP16(2, 2),
    FP32(3, 4),
    INT32(4, 4);

    private final int wireId;
    private final int width;

    DType(int wireId, int width) {
        this.wireId = wireId;
        this.width = width;
    }

    /** Stable byte written into minibatch records. */
    public int wireId() {
        return wireId;
    }

    /** Bytes per element. */
    public int width() {
        return width;
    }

    public static DType fromWireId(int id) {
        for (DType d : values()) {
            if (d.wireId == id) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown dtype wire id " + id + " (known: 1 uint8, 2 fp16, 3 fp32, 4 int32)");
    }

    // ---- IEEE 754 binary16 <-> binary32, by hand (Java 17 has no Float.floatToFloat16) ----

    /**
     * fp32 -> fp16 bits, round to nearest, ties to even. Overflow (|x| >= 65520) gives infinity, values below
     * half the smallest subnormal (2^-25) give signed zero, NaN stays NaN (top payload bits kept, never
     * turned into infinity).
     */
    public static short floatToFp16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;      // biased by 127
        int mant = bits & 0x7f_ffff;         // 23 bits
        if (exp == 0xff) {                   // inf or NaN
            if (mant == 0) {
                return (short) (sign | 0x7c00);
            }
            int m = mant >>> 13;
            return (short) (sign | 0x7c00 | (m == 0 ? 0x200 : m));
        }
        int e = exp - 127 + 15;              // re-biased for fp16
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);  // too large: infinity
        }
        if (e <= 0) {                        // fp16 subnormal (or zero): value = m * 2^-24
            int shift = 14 - e;              // full significand (24 bits) >> shift = m
            if (shift > 24) {
                return (short) sign;         // < 2^-25: rounds to zero (2^-25 itself ties to even = 0)
            }
            int full = mant | 0x80_0000;     // implicit leading 1 (float subnormals land here too: shift > 24)
            return (short) (sign | roundShift(full, shift));
        }
        // normal: a carry out of the mantissa bumps the exponent, and exponent 31 is infinity, as it should be
        return (short) (sign | ((e << 10) + roundShift(mant, 13)));
    }

    /** fp16 bits -> fp32, exact (every fp16 value is representable in fp32). */
    public static float fp16ToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {                   // inf or NaN, payload kept
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mant << 13));
        }
        if (exp == 0) {                      // zero or subnormal: mant * 2^-24, exact in fp32
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** value >> shift, rounded to nearest, ties to even (1 <= shift <= 24). */
    private static int roundShift(int value, int shift) {
        int q = value >>> shift;
        int rem = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (q & 1) == 1)) {
            q++;
        }
        return q;
    }
}
