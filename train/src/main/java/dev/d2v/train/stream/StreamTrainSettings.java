package dev.d2v.train.stream;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.LrScaling;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One run of the continuous trainer ({@code ./d2v train}).
 *
 * @param config           Kafka connection, topic names, per-modality batch sizes, the cache folder
 * @param modalities       the enabled modalities, in the order the start line lists them
 * @param preset           the model before it is fitted to the transforms (overrides applied)
 * @param presetName       how the start line names it
 * @param lrScaling        per-modality learning rate from the modality's batch size
 * @param lrReferenceBatch the batch size that trains at the preset's rate; 0: the largest enabled one
 * @param scheduleSteps    length of the LR / tau schedules; null: the target step if there is one, else the preset's;
 *                         a resumed run keeps its own unless this is given
 * @param out              run folder: checkpoints/, metrics.jsonl, trained-samples.jsonl, encoder/
 * @param vocabulary       the text vocabulary the preprocess job used; null: &lt;cacheDir&gt;/vocab/text.vocab
 * @param device           cpu or gpu
 * @param threads          PyTorch intra-op threads; null: one per core
 * @param seed             initialisation and masks
 * @param loop             turns, waits, checkpoints, rollback and stop conditions
 * @param metricsPort      Prometheus endpoint port; 0: none, -1: any free port
 * @param metricsHost      the address the endpoint binds (127.0.0.1: this machine only; 0.0.0.0: every interface)
 * @param sampleLog        write trained-samples.jsonl (the sample ids of every step)
 * @param initFrom         a new run (no checkpoint yet) starts its trunk from this checkpoint's ({@code Transfer});
 *                         null: from its own initialisation
 */
public record StreamTrainSettings(PipelineConfig config, List<Modality> modalities, Data2VecConfig preset, String presetName,
                                  LrScaling lrScaling, int lrReferenceBatch, Long scheduleSteps, Path out,
                                  Path vocabulary, String device, Integer threads, long seed, StreamSettings loop,
                                  int metricsPort, String metricsHost, boolean sampleLog, Path initFrom) {

    public StreamTrainSettings {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(loop, "loop");
        metricsHost = metricsHost == null ? StreamMetrics.LOOPBACK : metricsHost;
        modalities = List.copyOf(modalities);
        if (modalities.isEmpty()) {
            throw new IllegalArgumentException("at least one modality must be enabled");
        }
    }

    /** .d2v/runs/train */
    public static Path defaultOut() {
        return Path.of(".d2v", "runs", "train");
    }

    /** The vocabulary file text training reads: the given one, else the preprocess job's default. */
    public Path vocabularyFile() {
        return vocabulary != null ? vocabulary : config.data().cachePath().resolve("vocab").resolve("text.vocab");
    }

    /** The step the run stops at; null when it runs until stopped. */
    public Long targetStep() {
        return loop.targetStep() == Long.MAX_VALUE ? null : loop.targetStep();
    }
}
