package dev.d2v.pipelines.cli;

import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.distill.DistillRunner;
import dev.d2v.train.run.PretrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v distill`: a smaller student trained to reproduce a frozen teacher checkpoint's features. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = {"Distils a teacher checkpoint's encoder of one modality into a smaller student (--preset, default",
                "half the teacher): the student's last-block features, through a linear head to the teacher's width, regress the",
                "teacher's (per token and pooled, MSE), on the teacher's data transforms. Checkpoints under --out resume;",
                "./d2v evaluate --checkpoint reads them as any checkpoint. See train/TRAIN.md \"Distillation\"."})
public final class DistillCommand implements Callable<Integer> {

    @Option(names = "--teacher", required = true, paramLabel = "CHECKPOINT", description = "The teacher checkpoint folder")
    Path teacher;

    @Option(names = "--modality", required = true, paramLabel = "M", description = "image, audio or text")
    String modality;

    @Option(names = "--data", paramLabel = "NAME|PATH", description = "Dataset or folder (default: as pretrain's)")
    String data;

    @Option(names = "--preset", paramLabel = "NAME",
            description = {"The student's preset: tiny, small, cpu, ... (default: half the teacher: half its width, depth",
                    "and heads)"})
    String preset;

    @Option(names = "--steps", defaultValue = "300", paramLabel = "N", description = "Train until step N (default: ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--minutes", paramLabel = "M", description = "Stop after M minutes of this run (checkpointed; rerun to continue)")
    Double minutes;

    @Option(names = "--batch-size", paramLabel = "B", description = "Minibatch size (default: batch.<modality> of the config)")
    Integer batchSize;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: .d2v/runs/distill-<modality>)")
    Path out;

    @Mixin
    DeviceOptions devices;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation and data order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "N", description = "Steps between checkpoints (default: ${DEFAULT-VALUE})")
    long every;

    @Option(names = "--keep", defaultValue = "3", paramLabel = "K", description = "Keep the last K checkpoints (default: ${DEFAULT-VALUE})")
    int keep;

    @Mixin
    ConfigOptions cfg;

    @Mixin
    DataCommand.CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        Modality m;
        Data2VecConfig student;
        try {
            m = Modality.parse(modality);
            student = preset == null ? null : Data2VecConfig.preset(preset);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (!Files.isRegularFile(teacher.resolve(CheckpointManifest.FILE))) {
            throw new UserError("--teacher " + teacher + " is not a checkpoint folder (one with " + CheckpointManifest.FILE + ")");
        }
        if (steps < 1) {
            throw new UserError("--steps must be >= 1, got " + steps);
        }
        PipelineConfig c = cfg.load();
        DistillRunner.Settings s = new DistillRunner.Settings(teacher, m, data != null ? data : PretrainSettings.defaultData(m),
                cache.context(c), student, preset == null ? "half the teacher" : preset, batchSize != null ? batchSize : c.batch().of(m), steps,
                minutes == null ? null : Duration.ofMillis((long) (minutes * 60_000)),
                out != null ? out : Path.of(".d2v", "runs", "distill-" + m.id()), devices.name(), devices.requestedThreads(),
                seed, every, keep);
        try (StopOnShutdown stop = new StopOnShutdown("distill-shutdown")) {
            new DistillRunner(System.out).run(s, stop);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        return 0;
    }
}
