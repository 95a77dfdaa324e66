package dev.d2v.train.ema;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.d2v.train.schedule.Schedules;
import java.util.Map;
import java.util.TreeSet;

/**
 * The teacher update teacher <- tau * teacher + (1 - tau) * student, in place, in fp32, over exactly the teacher's
 * parameters (the student may have more: the decoder has no teacher copy).
 *
 * <p>Why in place: in DJL a result lands in the manager of its left operand, so {@code t.mul(tau).add(...)} would
 * add arrays to the model's manager on every step. Here the teacher array is updated with
 * t -= s; t *= tau; t += s (= tau * t + (1 - tau) * s, no temporaries); a non-fp32 student is converted inside a
 * scope that is closed at once.
 */
public final class Ema {

    private Ema() {}

    /**
     * @param teacher name -> teacher parameter (any shape, FLOAT32), updated in place
     * @param student name -> student parameter of the same shape; names must cover the teacher's
     * @return true when updated, false when tau == 1 (frozen teacher, nothing touched)
     */
    public static boolean update(Map<String, NDArray> teacher, Map<String, NDArray> student, double tau) {
        if (tau < 0 || tau > 1) {
            throw new IllegalArgumentException("EMA tau must be in [0, 1], got " + tau);
        }
        checkMatch(teacher, student);
        if (Schedules.emaFrozen(tau)) {
            return false;
        }
        for (Map.Entry<String, NDArray> e : teacher.entrySet()) {
            lerpInPlace(e.getValue(), student.get(e.getKey()), (float) tau);
        }
        return true;
    }

    /** t (S) fp32 <- tau * t + (1 - tau) * s, s (S) any float type. */
    static void lerpInPlace(NDArray t, NDArray s, float tau) {
        if (s.getDataType() == DataType.FLOAT32) {
            t.subi(s).muli(tau).addi(s);
            return;
        }
        try (NDManager scope = t.getManager().newSubManager()) {
            NDArray s32 = s.toType(DataType.FLOAT32, true); // lands in the student's manager: move it to the scope
            s32.attach(scope);
            t.subi(s32).muli(tau).addi(s32);
        }
    }

    /** Every teacher name exists in the student with the same shape; the teacher is fp32. */
    static void checkMatch(Map<String, NDArray> teacher, Map<String, NDArray> student) {
        TreeSet<String> missing = new TreeSet<>(teacher.keySet());
        missing.removeAll(student.keySet());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("EMA: teacher parameters without a student counterpart: " + missing);
        }
        for (Map.Entry<String, NDArray> e : teacher.entrySet()) {
            NDArray t = e.getValue();
            NDArray s = student.get(e.getKey());
            if (!t.getShape().equals(s.getShape())) {
                throw new IllegalArgumentException("EMA: parameter " + e.getKey() + " has teacher shape " + t.getShape()
                        + " but student shape " + s.getShape());
            }
            if (t.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("EMA: teacher parameter " + e.getKey() + " must be FLOAT32, is " + t.getDataType());
            }
        }
    }
}
