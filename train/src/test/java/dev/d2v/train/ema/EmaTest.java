package dev.d2v.train.ema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmaTest {

    @Test
    void updateEqualsTheFormula() {
        try (NDManager tm = NDManager.newBaseManager(); NDManager sm = NDManager.newBaseManager()) {
            Map<String, NDArray> teacher = Map.of("w", tm.create(new float[] {1f, 2f, -3f, 0.5f}, new Shape(2, 2)));
            Map<String, NDArray> student = new LinkedHashMap<>();
            student.put("w", sm.create(new float[] {3f, 2f, 1f, -0.5f}, new Shape(2, 2)));
            student.put("decoder.w", sm.ones(new Shape(3))); // student-only parameters are allowed
            assertThat(Ema.update(teacher, student, 0.75)).isTrue();
            // 0.75 * t + 0.25 * s
            float[] expected = {1.5f, 2f, -2f, 0.25f};
            float[] got = teacher.get("w").toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertThat(got[i]).isCloseTo(expected[i], within(1e-6f));
            }
            assertThat(student.get("w").toFloatArray()).containsExactly(3f, 2f, 1f, -0.5f);
        }
    }

    @Test
    void tauOneLeavesTheTeacherBitIdentical() {
        try (NDManager tm = NDManager.newBaseManager(); NDManager sm = NDManager.newBaseManager()) {
            NDArray t = tm.randomNormal(new Shape(5, 7));
            float[] before = t.toFloatArray();
            boolean updated = Ema.update(Map.of("w", t), Map.of("w", sm.randomNormal(new Shape(5, 7))), 1.0);
            assertThat(updated).isFalse();
            assertThat(t.toFloatArray()).isEqualTo(before);
        }
    }

    @Test
    void hundredUpdatesLeakNothingIntoEitherManager() {
        try (NDManager tm = NDManager.newBaseManager(); NDManager sm = NDManager.newBaseManager()) {
            Map<String, NDArray> teacher = Map.of("a", tm.zeros(new Shape(4, 4)), "b", tm.zeros(new Shape(4)));
            Map<String, NDArray> student = Map.of("a", sm.ones(new Shape(4, 4)),
                    "b", sm.ones(new Shape(4)).toType(DataType.FLOAT16, false)); // exercises the conversion path
            int teacherArrays = tm.getManagedArrays().size();
            int studentArrays = sm.getManagedArrays().size();
            for (int i = 0; i < 100; i++) {
                Ema.update(teacher, student, 0.9);
            }
            assertThat(tm.getManagedArrays()).hasSize(teacherArrays);
            assertThat(sm.getManagedArrays()).hasSize(studentArrays);
            // t_n = 1 - 0.9^n for a constant student of 1
            double expected = 1 - Math.pow(0.9, 100);
            assertThat(teacher.get("a").getFloat(0, 0)).isCloseTo((float) expected, within(1e-5f));
            assertThat(teacher.get("b").getFloat(3)).isCloseTo((float) expected, within(1e-5f));
        }
    }

    @Test
    void mismatchedParametersFail() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> teacher = Map.of("w", m.zeros(new Shape(2)), "v", m.zeros(new Shape(2)));
            assertThatThrownBy(() -> Ema.update(teacher, Map.of("w", m.zeros(new Shape(2))), 0.9))
                    .hasMessageContaining("without a student counterpart: [v]");
            assertThatThrownBy(() -> Ema.update(Map.of("w", m.zeros(new Shape(2))), Map.of("w", m.zeros(new Shape(3))), 0.9))
                    .hasMessageContaining("teacher shape (2)");
        }
    }
}
