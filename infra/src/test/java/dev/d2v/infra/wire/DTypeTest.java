package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void wireIdsAndWidthsAreStable() {
        assertThat(Arrays.stream(DType.values()).mapToInt(DType::wireId)).containsExactly(1, 2, 3, 4);
        assertThat(Arrays.stream(DType.values()).mapToInt(DType::width)).containsExactly(1, 2, 4, 4);
        for (DType d : DType.values()) {
            assertThat(DType.fromWireId(d.wireId())).isSameAs(d);
        }
        assertThatThrownBy(() -> DType.fromWireId(9)).hasMessageContaining("unknown dtype wire id 9");
    }

    /** Bit patterns from the IEEE 754 binary16 tables. */
    @Test
    void knownFp16Values() {
        assertFp16(1.0f, 0x3c00);
        assertFp16(-2.0f, 0xc000);
        assertFp16(0.5f, 0x3800);
        assertFp16(65504f, 0x7bff);          // largest finite
        assertFp16(0x1p-14f, 0x0400);        // smallest normal
        assertFp16(0x1p-24f, 0x0001);        // smallest subnormal
        assertFp16(0x3ffp-24f, 0x03ff);      // largest subnormal
        assertFp16(0.0f, 0x0000);
        assertFp16(-0.0f, 0x8000);
        assertFp16(Float.POSITIVE_INFINITY, 0x7c00);
        assertFp16(Float.NEGATIVE_INFINITY, 0xfc00);
        assertThat(DType.floatToFp16(1f / 3f) & 0xffff).isEqualTo(0x3555); // 0.333251953125
        assertThat(DType.fp16ToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
    }

    @Test
    void roundsToNearestEven() {
        float ulpAt1 = 0x1p-10f;
        assertThat(DType.floatToFp16(1f + ulpAt1 / 2) & 0xffff).as("tie goes to even 1.0").isEqualTo(0x3c00);
        assertThat(DType.floatToFp16(1f + 3 * ulpAt1 / 2) & 0xffff).as("tie goes to even 0x3c02").isEqualTo(0x3c02);
        assertThat(DType.floatToFp16(Math.nextUp(1f + ulpAt1 / 2)) & 0xffff).as("above the tie rounds up").isEqualTo(0x3c01);
        assertThat(DType.floatToFp16(65519f) & 0xffff).as("below the overflow tie").isEqualTo(0x7bff);
        assertThat(DType.floatToFp16(65520f) & 0xffff).as("overflow tie rounds to infinity").isEqualTo(0x7c00);
        assertThat(DType.floatToFp16(0x1p-25f) & 0xffff).as("half the smallest subnormal ties to zero").isEqualTo(0x0000);
        assertThat(DType.floatToFp16(Math.nextUp(0x1p-25f)) & 0xffff).as("just above rounds up").isEqualTo(0x0001);
        assertThat(DType.floatToFp16(0x1.8p-24f) & 0xffff).as("1.5 subnormal ulps ties to even 2").isEqualTo(0x0002);
        assertThat(DType.floatToFp16(Float.MIN_VALUE) & 0xffff).as("fp32 subnormals vanish").isEqualTo(0x0000);
        assertThat(DType.floatToFp16(0x1.ffcp-15f) & 0xffff).as("subnormal rounding carries into the smallest normal")
                .isEqualTo(0x0400);
    }

    @Test
    void nanStaysNan() {
        short h = DType.floatToFp16(Float.NaN);
        assertThat(h & 0x7c00).isEqualTo(0x7c00);
        assertThat(h & 0x03ff).isNotZero();
        assertThat(DType.fp16ToFloat(h)).isNaN();
        // a NaN whose payload sits only in the low 13 bits must not become infinity
        assertThat(DType.fp16ToFloat(DType.floatToFp16(Float.intBitsToFloat(0x7f800001)))).isNaN();
        assertThat(DType.fp16ToFloat((short) 0x7e00)).isNaN();
    }

    @Test
    void everyFp16ValueSurvivesARoundTripThroughFp32() {
        for (int bits = 0; bits <= 0xffff; bits++) {
            short h = (short) bits;
            float f = DType.fp16ToFloat(h);
            if (Float.isNaN(f)) {
                assertThat((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0).as("only NaN patterns give NaN").isTrue();
                continue;
            }
            assertThat(DType.floatToFp16(f) & 0xffff).as("0x%04x", bits).isEqualTo(bits);
        }
    }

    /** Oracle: scale to fp16 ulps and round with Math.rint (ties to even), all in exact double arithmetic. */
    @Property(tries = 3000)
    void anyFloatMatchesTheRintOracle(@ForAll int bits) {
        float x = Float.intBitsToFloat(bits);
        Assume.that(!Float.isNaN(x));
        assertThat(DType.fp16ToFloat(DType.floatToFp16(x))).isEqualTo(oracle(x));
    }

    /** Exponents around the fp16 range (2^-27 .. 2^16), where subnormals, normals and overflow all happen. */
    @Property(tries = 5000)
    void floatsNearTheFp16RangeMatchTheRintOracle(@ForAll boolean negative,
                                                   @ForAll @IntRange(min = 100, max = 143) int biasedExp,
                                                   @ForAll @IntRange(min = 0, max = 0x7f_ffff) int mantissa) {
        float x = Float.intBitsToFloat((negative ? 0x8000_0000 : 0) | biasedExp << 23 | mantissa);
        assertThat(DType.fp16ToFloat(DType.floatToFp16(x))).as("x = %s", x).isEqualTo(oracle(x));
    }

    private static float oracle(float x) {
        if (x == 0f) {
            return x;
        }
        int exp = Math.max(Math.getExponent(x), -14);  // below 2^-14 the fp16 ulp stays 2^-24
        double ulp = Math.scalb(1.0, exp - 10);
        double r = Math.rint(x / ulp) * ulp;
        if (Math.abs(r) > 65504) {
            return x > 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        }
        return r == 0 ? Math.copySign(0f, x) : (float) r;
    }

    private static void assertFp16(float f, int bits) {
        assertThat(DType.floatToFp16(f) & 0xffff).as("fp16 bits of %s", f).isEqualTo(bits);
        assertThat(DType.fp16ToFloat((short) bits)).as("value of 0x%04x", bits).isEqualTo(f);
    }
}
