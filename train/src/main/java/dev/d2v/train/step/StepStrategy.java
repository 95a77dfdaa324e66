package dev.d2v.train.step;

import ai.djl.ndarray.NDArray;
import dev.d2v.infra.Modality;
import dev.d2v.train.mask.MaskBatch;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;

/**
 * The parts of a {@link Trainer} step that a comparison may swap: how the teacher builds targets, how the student
 * runs, which parameters only the student has. {@link #DATA2VEC_2} is the data2vec 2.0 step (Baevski et al. 2022):
 * the teacher once per sample on the clean input, the student on the visible tokens of each clone.
 */
public interface StepStrategy {

    /** The data2vec 2.0 step; what every training run uses. */
    StepStrategy DATA2VEC_2 = new StepStrategy() {};

    /** Adds parameters to the student after the teacher was copied from it (so the teacher has none of them). */
    default void declareStudentOnly(Data2VecModel model, Params student, long seed) {}

    /**
     * Teacher targets for the batch (B, T, D), and the pooled target (B, D) where the modality has a pooled loss,
     * computed with gradients off.
     *
     * @param clones multi-mask clones M of the modality
     */
    default Data2VecModel.TeacherOut targets(Data2VecModel model, Params teacher, Modality m, BatchTensors in,
                                             int clones) {
        return model.teacher(teacher, m, in.input(), in.validTokens());
    }

    /**
     * The student on the masked clones.
     *
     * @param embedded (B, T, D) from {@link Data2VecModel#embed}
     * @return prediction (B * M, T, D); cls (B * M, D) or null
     */
    default Data2VecModel.StudentOut student(Data2VecModel model, Params student, Modality m, NDArray embedded,
                                             MaskBatch mask, int gridRows) {
        return model.student(student, m, embedded, mask, gridRows, true);
    }
}
