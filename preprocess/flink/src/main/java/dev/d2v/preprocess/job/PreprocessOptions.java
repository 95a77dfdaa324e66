package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.sample.TransformSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a preprocessing run asks for beyond the project configuration, shared by {@code ./d2v preprocess}
 * and the cluster entry point {@link PreprocessJobMain}; {@link #jobs} turns it into one job config per modality.
 *
 * @param modalities          which jobs (one Flink job holds them all)
 * @param vocabulary          the text vocabulary file (needed when text is among the modalities)
 * @param parallelism         per job; the raw topics' partition count is the useful maximum
 * @param epoch               augmentation epoch (seeds crops and flips with the sample id)
 * @param bounded             read to the raw topics' end offsets at start, then finish
 * @param batchSize           overrides the configured batch size of every modality; 0 = configuration
 * @param partialTimeoutMs    0 = the default ({@link dev.d2v.preprocess.batch.BatchSpec#DEFAULT_TIMEOUT_MS})
 * @param checkpointIntervalMs 0 = the default ({@link PreprocessJobConfig#DEFAULT_CHECKPOINT_INTERVAL_MS})
 */
public record PreprocessOptions(List<Modality> modalities, Path vocabulary, int parallelism, long epoch, boolean bounded,
                                int batchSize, long partialTimeoutMs, long checkpointIntervalMs) {

    public PreprocessOptions {
        modalities = List.copyOf(modalities);
        if (modalities.isEmpty()) {
            throw new IllegalArgumentException("name at least one modality: image, audio, text or all");
        }
        if (parallelism < 1 || batchSize < 0 || partialTimeoutMs < 0 || checkpointIntervalMs < 0) {
            throw new IllegalArgumentException("parallelism must be >= 1; batch size, timeout and interval >= 0");
        }
    }

    /** "image", "audio", "text" or "all". */
    public static List<Modality> parseModalities(String s) {
        return s.trim().equalsIgnoreCase("all") ? List.of(Modality.values()) : List.of(Modality.parse(s));
    }

    /** One job per modality, with the configuration's transforms (defaults and transforms.set) and settings. */
    public List<PreprocessJobConfig> jobs(PipelineConfig config) {
        List<PreprocessJobConfig> jobs = new ArrayList<>();
        Transforms transforms = Transforms.of(config);
        for (Modality m : modalities) {
            PreprocessJobConfig c = PreprocessJobConfig.from(config, transform(m, transforms));
            c = c.withParallelism(parallelism).withBounded(bounded)
                    .withBatch(batchSize > 0 ? batchSize : c.batchSize(),
                            partialTimeoutMs > 0 ? partialTimeoutMs : c.partialTimeoutMs());
            if (checkpointIntervalMs > 0) {
                c = c.withCheckpointIntervalMs(checkpointIntervalMs);
            }
            jobs.add(c);
        }
        return jobs;
    }

    private TransformSpec transform(Modality m, Transforms t) {
        return switch (m) {
            case IMAGE -> TransformSpec.image(t.image(), epoch);
            case AUDIO -> TransformSpec.audio(t.audio(), epoch);
            case TEXT -> {
                if (vocabulary == null || !Files.isRegularFile(vocabulary)) {
                    throw new IllegalArgumentException("text preprocessing needs a vocabulary file: "
                            + (vocabulary == null ? "pass --vocab FILE" : vocabulary + " does not exist"));
                }
                yield TransformSpec.text(t.text(), vocabulary, epoch);
            }
        };
    }
}
