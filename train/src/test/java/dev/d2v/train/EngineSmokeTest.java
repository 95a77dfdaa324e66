package dev.d2v.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** The PyTorch engine must load from the Maven native jar with ai.djl.offline=true (no download). */
class EngineSmokeTest {

    @Test
    void pytorchEngineLoadsOffline() {
        assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
        assertThat(Engine.getInstance().getEngineName()).isEqualTo("PyTorch");
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1f, 2f, 3f});
            assertThat(a.sum().getFloat()).isEqualTo(6f);
        }
    }
}
