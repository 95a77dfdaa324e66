package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import java.nio.file.Path;
import java.util.List;

/**
 * One local preprocessing run ({@code ./d2v preprocess}, the demo's preprocessing stage), beyond the project
 * configuration: which jobs, bounded or not, and the local run's state. A null argument takes its default.
 *
 * @param modalities           one Flink job holds a pipeline for each
 * @param bounded              stop once the records in the raw topics at start are processed (the last batch may be
 *                             partial); false: run until cancelled
 * @param parallelism          transform and batcher tasks per modality: 1; the raw topics' partitions are the useful
 *                             maximum
 * @param epoch                augmentation epoch, seeding crops and flips with the sample id: 0
 * @param batchSize            every modality's batch size: the configuration's batch.&lt;modality&gt;
 * @param partialTimeoutMs     a short batch, marked partial, is sent this long after its first sample:
 *                             {@link dev.d2v.preprocess.batch.BatchSpec#DEFAULT_TIMEOUT_MS}
 * @param checkpointIntervalMs checkpoint (and batch visibility) interval:
 *                             {@link PreprocessJobConfig#DEFAULT_CHECKPOINT_INTERVAL_MS}
 * @param vocabulary           the text vocabulary, built from the raw text topic when missing:
 *                             &lt;cacheDir&gt;/vocab/text.vocab
 * @param vocabRecords         at most this many raw text records build a missing vocabulary: 100000, enough for
 *                             the word counts of the shipped corpora to settle
 * @param fresh                delete the state a cancelled run retained (its pending samples, fewer than one batch
 *                             per batcher, are lost) instead of restoring it
 * @param stateDir             where runs retain their Flink checkpoints: &lt;cacheDir&gt;/flink
 */
public record LocalPreprocessSettings(List<Modality> modalities, boolean bounded, Integer parallelism, Long epoch,
                                      Integer batchSize, Long partialTimeoutMs, Long checkpointIntervalMs,
                                      Path vocabulary, Integer vocabRecords, boolean fresh, Path stateDir) {

    public static final int DEFAULT_PARALLELISM = 1;
    public static final int DEFAULT_VOCAB_RECORDS = 100_000;

    public LocalPreprocessSettings {
        modalities = List.copyOf(modalities);
        parallelism = parallelism == null ? DEFAULT_PARALLELISM : parallelism;
        epoch = epoch == null ? 0L : epoch;
        vocabRecords = vocabRecords == null ? DEFAULT_VOCAB_RECORDS : vocabRecords;
        if (modalities.isEmpty()) {
            throw new IllegalArgumentException("name at least one modality: image, audio, text or all");
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
        }
        if (batchSize != null && batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (partialTimeoutMs != null && partialTimeoutMs < 1) {
            throw new IllegalArgumentException("partial timeout must be >= 1 ms, got " + partialTimeoutMs);
        }
        if (checkpointIntervalMs != null && checkpointIntervalMs < 1) {
            throw new IllegalArgumentException("checkpoint interval must be >= 1 ms, got " + checkpointIntervalMs);
        }
        if (vocabRecords < 1) {
            throw new IllegalArgumentException("vocabulary records must be >= 1, got " + vocabRecords);
        }
    }

    /** A run of these modalities with every default: unbounded, retained state restored. */
    public static LocalPreprocessSettings of(List<Modality> modalities) {
        return new LocalPreprocessSettings(modalities, false, null, null, null, null, null, null, null, false, null);
    }

    public LocalPreprocessSettings withBounded(boolean b) {
        return new LocalPreprocessSettings(modalities, b, parallelism, epoch, batchSize, partialTimeoutMs,
                checkpointIntervalMs, vocabulary, vocabRecords, fresh, stateDir);
    }

    public LocalPreprocessSettings withVocabulary(Path file) {
        return new LocalPreprocessSettings(modalities, bounded, parallelism, epoch, batchSize, partialTimeoutMs,
                checkpointIntervalMs, file, vocabRecords, fresh, stateDir);
    }

    public LocalPreprocessSettings withStateDir(Path dir) {
        return new LocalPreprocessSettings(modalities, bounded, parallelism, epoch, batchSize, partialTimeoutMs,
                checkpointIntervalMs, vocabulary, vocabRecords, fresh, dir);
    }

    /** The job options of one run (bounded as given: a restored bounded run is finished first), vocabulary resolved. */
    PreprocessOptions options(Path vocabularyFile, boolean boundedRun) {
        // PreprocessOptions' 0 = the default
        return new PreprocessOptions(modalities, vocabularyFile, parallelism, epoch, boundedRun,
                batchSize == null ? 0 : batchSize, partialTimeoutMs == null ? 0 : partialTimeoutMs,
                checkpointIntervalMs == null ? 0 : checkpointIntervalMs);
    }
}
