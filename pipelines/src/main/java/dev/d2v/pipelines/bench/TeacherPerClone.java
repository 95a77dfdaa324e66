package dev.d2v.pipelines.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.d2v.infra.Modality;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.step.BatchTensors;
import dev.d2v.train.step.StepStrategy;
import dev.d2v.train.tensor.Tokens;

/**
 * The teacher on all B * M clone rows instead of once per sample, for the multi-mask teacher-reuse comparison only.
 * Every M-th row is kept, so the rest of the step is the data2vec 2.0 one and the losses are equal (the clones'
 * targets are equal: clean input, eval mode).
 */
public final class TeacherPerClone implements StepStrategy {

    /** @return (B, T, D), from the teacher on (B * M, T, D); the pooled target is not compared (null) */
    @Override
    public Data2VecModel.TeacherOut targets(Data2VecModel model, Params teacher, Modality m, BatchTensors in,
                                            int clones) {
        int[] valid = in.validTokens();
        int[] repeated = null;
        if (valid != null) {
            repeated = new int[valid.length * clones];
            for (int i = 0; i < repeated.length; i++) {
                repeated[i] = valid[i / clones];
            }
        }
        NDArray all = model.targets(teacher, m, Tokens.repeatInterleave(in.input(), clones), repeated);
        return new Data2VecModel.TeacherOut(all.get(new NDIndex("::" + clones)), null);
    }
}
