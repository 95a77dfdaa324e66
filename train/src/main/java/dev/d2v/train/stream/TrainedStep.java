package dev.d2v.train.stream;

import dev.d2v.train.step.StepResult;

/**
 * One optimizer step of the continuous loop, for its listeners (metrics file, Prometheus, progress, sample log).
 *
 * @param result           what the trainer did
 * @param source           the record the batch came from (topic, partition, offset, sample ids)
 * @param dataWaitMs       time this step waited for its batch
 * @param dataWaitFraction share of this run's wall time spent waiting for data, so far
 * @param lag              records of this modality not yet trained (-1 unknown)
 * @param freshnessMs      training time minus the batch's event time (Minibatch.createdAtMs); -1 when it has none
 * @param samplesPerSecond samples per second of wall time over the last steps (waits included)
 */
public record TrainedStep(StepResult result, Fetched source, double dataWaitMs, double dataWaitFraction, long lag,
                          long freshnessMs, double samplesPerSecond) {}
