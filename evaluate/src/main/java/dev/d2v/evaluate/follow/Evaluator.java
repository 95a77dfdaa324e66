package dev.d2v.evaluate.follow;

import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.CheckpointEvent;
import java.util.List;

/**
 * Evaluates one checkpoint: rebuilds the encoder from the checkpoint's files, extracts features, runs the probes.
 * Throwing refuses the checkpoint (corrupt files, an incompatible format or config): the follower records the
 * reason and goes on with the next one. An {@link InterruptedException} is not a refusal: the evaluation is left
 * "started" and resumed on the next run.
 */
@FunctionalInterface
public interface Evaluator {
    List<EvalResult> evaluate(CheckpointEvent checkpoint) throws Exception;
}
