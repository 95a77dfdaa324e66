package dev.d2v.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** libtorch's float32 matmul precision, set through JNA, read back from libtorch, and what it does to a product. */
class MatmulPrecisionTest {

    @AfterEach
    void restore() {
        Devices.configureMatmulPrecision(null);
        MatmulPrecision.HIGHEST.apply();
    }

    @Test
    void libtorchReportsTheSettingItWasGiven() {
        for (MatmulPrecision p : List.of(MatmulPrecision.MEDIUM, MatmulPrecision.HIGH, MatmulPrecision.HIGHEST)) {
            p.apply();
            assertThat(MatmulPrecision.current()).isEqualTo(p);
        }
    }

    @Test
    void mediumKeepsProductsWithinBf16RoundingOfFp32() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = m.randomNormal(new Shape(96, 192));
            NDArray b = m.randomNormal(new Shape(192, 64));
            MatmulPrecision.HIGHEST.apply();
            NDArray exact = a.matMul(b);
            MatmulPrecision.MEDIUM.apply();
            NDArray medium = a.matMul(b);
            float scale = exact.abs().max().getFloat();
            float diff = medium.sub(exact).abs().max().getFloat();
            // bf16 keeps 8 bits of mantissa: each input within 2^-8 relative, the sum of 192 terms well within 5%
            assertThat(diff / scale).isLessThan(0.05f);
            MatmulPrecision.HIGHEST.apply();
            assertThat(a.matMul(b).sub(exact).abs().max().getFloat()).isZero();
        }
    }

    @Test
    void theDeviceSettingIsAppliedWhenTheDeviceOpensAndUndoneByTheDefault() {
        Devices.configureMatmulPrecision(MatmulPrecision.MEDIUM);
        Devices.parse("cpu");
        assertThat(MatmulPrecision.current()).isEqualTo(MatmulPrecision.MEDIUM);
        Devices.configureMatmulPrecision(MatmulPrecision.HIGHEST);
        Devices.parse("cpu");
        assertThat(MatmulPrecision.current()).isEqualTo(MatmulPrecision.HIGHEST);
    }

    @Test
    void anUnknownNameSaysWhatIsAccepted() {
        assertThat(MatmulPrecision.parse(" Medium ")).isEqualTo(MatmulPrecision.MEDIUM);
        assertThatThrownBy(() -> MatmulPrecision.parse("bf16"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("highest, high or medium");
    }
}
