package dev.d2v.train.step;

import dev.d2v.infra.Modality;

/**
 * What one training step did, for listeners (metrics, progress, the collapse guard).
 *
 * @param step        the optimizer step this result belongs to (0-based; the counter after it is step + 1)
 * @param loss        total loss (regression + CLS + pooled); NaN or inf when the step was skipped
 * @param clsLoss     the image CLS part of loss (0 for other modalities)
 * @param pooledLoss  the pooled part of loss (0 when the modality has none)
 * @param lr          learning rate used
 * @param tau         EMA momentum used (1 = teacher frozen)
 * @param gradNorm    global gradient norm before clipping
 * @param targetStd   mean per-channel std of the targets (collapse guard)
 * @param predictionStd mean per-channel std of the predictions at masked slots' rows
 * @param targetPositionShare share of the targets' variance that position alone explains (CollapseGuard.positionShare)
 * @param samples     samples in the batch (before the multi-mask clones)
 * @param applied     false when a non-finite loss or gradient skipped the update
 * @param nanos       wall time of the step
 */
public record StepResult(long step, Modality modality, double loss, double clsLoss, double pooledLoss, double lr,
                         double tau, double gradNorm, double targetStd, double predictionStd, double targetPositionShare,
                         int samples, boolean applied, long nanos) {

    public double samplesPerSecond() {
        return nanos == 0 ? 0 : samples * 1e9 / nanos;
    }
}
