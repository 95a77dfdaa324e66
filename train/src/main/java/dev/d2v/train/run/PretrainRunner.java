package dev.d2v.train.run;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.progress.Progress;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.loop.Checkpointer;
import dev.d2v.train.loop.CollapseGuardStop;
import dev.d2v.train.loop.LoopListener;
import dev.d2v.train.loop.LoopSettings;
import dev.d2v.train.loop.ScheduleFit;
import dev.d2v.train.loop.TrainingLoop;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Offline pretraining: one modality's local data through the default transforms, the preset fitted to them, the
 * {@link TrainingLoop} over a {@link LocalBatchSource} with metrics, progress, the collapse guard and checkpoints
 * (with the loader's epoch and item), then the student encoder exported. A second run on the same folder resumes
 * from the newest valid checkpoint with the schedules it started with.
 */
public final class PretrainRunner {

    /**
     * How a run ended.
     *
     * @param step           the trainer's step count at the end
     * @param lastCheckpoint the checkpoint written last by this run; null when nothing new was trained
     * @param encoder        encoder.safetensors exported from it; null when no checkpoint was written
     */
    public record Result(long stepsThisRun, String reason, long step, CheckpointStore.Verified lastCheckpoint,
                         Path encoder) {}

    /** Steps a time-bound run measures its pace over before it fits its schedules. */
    static final int CALIBRATION_STEPS = 20;

    private final PrintStream out;

    /** @param out the start and end lines, resume and checkpoint messages */
    public PretrainRunner(PrintStream out) {
        this.out = out;
    }

    /**
     * @param stop polled before each step: true ends the run after the current step, with a checkpoint
     * @throws IllegalArgumentException for settings the data or the device refuse (the message says why)
     */
    public Result run(PretrainSettings s, BooleanSupplier stop) throws IOException, InterruptedException {
        Modality m = s.modality();
        Device dev = Devices.open(s.device(), s.threads());
        Path run = s.out().toAbsolutePath();
        Files.createDirectories(run);
        LocalSource all = LocalSource.open(s.data(), m, s.dataContext());
        LocalSource train = all.hasSplit("train") ? all.split("train") : all;
        if (s.limit() != null) {
            train = train.limit(s.limit());
        }
        Transforms transforms = s.transforms();
        Vocabulary vocab = m == Modality.TEXT
                ? LocalBatches.vocabulary(train, transforms.text(), run.resolve("vocabulary.txt")) : null;
        LocalBatches batches = new LocalBatches(train, transforms, vocab,
                LocalBatches.Options.training(s.batchSize(), s.seed()));
        long target = s.targetStep();
        Path checkpoints = run.resolve("checkpoints");
        // a time-bound run starts on the preset's schedule length and fits it to the budget after its first steps
        long scheduleLength = s.scheduleSteps() != null ? s.scheduleSteps()
                : s.fitsSchedule() ? s.preset().optim().totalSteps() : target;
        Data2VecConfig model = TrainerCheckpoints.keepSchedule(ModelFit.fit(s.preset(), List.of(m), transforms, vocab)
                .forSteps(scheduleLength), checkpoints, s.scheduleSteps() != null);

        out.printf("pretrain %s on %s (%d records), preset %s, batch %d, %s, %s, peak lr %.3g%s%n", m.id(), s.data(),
                train.size(), s.presetName(), s.batchSize(), dev + Devices.matmulPrecisionNote(), bound(s, target),
                model.optim().lr() * model.modality(m).lrFactor(model.optim()),
                model.modality(m).lr() == null ? "" : " (" + m.id() + ".lr; optim.lr is for modalities without one)");
        Result result;
        try (Trainer trainer = new Trainer(model, dev, s.seed());
             StepMetricsFile metrics = new StepMetricsFile(run.resolve("metrics.jsonl"))) {
            CheckpointManifest.DataPosition resumeAt;
            try (NDManager scratch = NDManager.newBaseManager(dev)) {
                Optional<CheckpointManifest.DataPosition> resumed = TrainerCheckpoints.resumeNewest(trainer, checkpoints,
                        scratch, out::println);
                if (resumed.isEmpty() && s.initFrom() != null) {
                    Transfer.Copied c = Transfer.initFrom(trainer, s.initFrom(), scratch);
                    out.printf("trunk from %s (step %d, %s trunk): %d blocks, %d tensors; local encoder and decoder new%n",
                            c.source(), c.sourceStep(), c.sourceTrunk(), c.blocks(), c.tensors());
                } else if (s.initFrom() != null) {
                    out.println("--init-from: not used, the run resumed from its own checkpoint");
                }
                resumeAt = resumed.orElse(CheckpointManifest.DataPosition.none());
            }
            LocalBatchSource source = new LocalBatchSource(m,
                    batches.iterator(LocalBatchSource.resumeAt(resumeAt), Long.MAX_VALUE));
            Checkpointer checkpointer = new Checkpointer(checkpoints, runInfo(s, transforms, vocab, run), s.checkpointEvery(),
                    null, new RetentionPolicy(s.keep(), 0), v -> {});
            TrainingLoop.Outcome o;
            try (Progress progress = new Progress("pretrain " + m.id(), target == Long.MAX_VALUE ? 0 : target)) {
                progress.set(trainer.stepsDone(), "");
                List<LoopListener> listeners = new ArrayList<>(List.of(LoopListener.of(st -> metrics.write(st.result())),
                        progressLine(progress), new CollapseGuardStop()));
                if (s.fitsSchedule() && trainer.stepsDone() == 0) {
                    listeners.add(new ScheduleFit(s.scheduleBudget(), CALIBRATION_STEPS));   // before the first checkpoint
                }
                listeners.add(checkpointer);
                LoopSettings loop = new LoopSettings(Map.of(m, 1), Duration.ZERO, target, s.timeBudget(), null);
                o = new TrainingLoop(trainer, source, Map.of(), loop, listeners, msg -> out.println("\n" + msg)).run(stop);
            }
            CheckpointStore.Verified last = checkpointer.last();
            Path encoder = null;
            if (last != null) {
                encoder = TrainerCheckpoints.exportEncoder(trainer, run.resolve("encoder"), last.folder().getFileName().toString());
                out.printf("%s after %d steps (step %d); encoder: %s%n", o.reason(), o.stepsThisRun(), trainer.stepsDone(), encoder);
            } else {
                out.printf("%s; nothing new to save (step %d)%n", o.reason(), trainer.stepsDone());
            }
            result = new Result(o.stepsThisRun(), o.reason(), trainer.stepsDone(), last, encoder);
        }
        if (batches.stats().skipped() > 0) {
            out.println("skipped records: " + batches.stats());
        }
        return result;
    }

    /** "until step 300", "until step 300 or 15.0 min", "for 15.0 min (schedules fitted to 15.0 min)". */
    private static String bound(PretrainSettings s, long target) {
        String time = s.timeBudget() == null ? null : s.timeBudget().toMillis() / 60_000.0 + " min";
        if (target == Long.MAX_VALUE) {
            return "for " + time + (s.scheduleBudget().equals(s.timeBudget()) ? ""
                    : " of " + s.scheduleBudget().toMillis() / 60_000.0 + " min")
                    + " (LR / tau schedules fitted to the budget after " + CALIBRATION_STEPS + " steps of a new run)";
        }
        return "until step " + target + (time == null ? "" : " or " + time);
    }

    /** Step, smoothed loss, lr, tau and samples/s on the progress line. */
    private static LoopListener progressLine(Progress progress) {
        double[] emaLoss = {Double.NaN};
        return LoopListener.of(st -> {
            StepResult r = st.result();
            emaLoss[0] = Double.isNaN(emaLoss[0]) ? r.loss() : 0.9 * emaLoss[0] + 0.1 * r.loss();
            progress.set(r.step() + 1, String.format("loss %.4f lr %.2e tau %.5f %.1f samples/s", emaLoss[0], r.lr(),
                    r.tau(), r.samples() / (r.nanos() / 1e9)));
        });
    }

    /** The run settings each checkpoint stores beside the model config. */
    private static ObjectNode runInfo(PretrainSettings s, Transforms t, Vocabulary vocab, Path run) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("mode", "pretrain");
        o.put("modality", s.modality().id());
        o.put("data", s.data());
        o.put("batch_size", s.batchSize());
        o.set("transforms", json.valueToTree(t));
        if (vocab != null) {
            o.put("vocabulary", run.resolve("vocabulary.txt").toString());
            o.put("vocabulary_hash", Long.toHexString(vocab.contentHash()));
        }
        if (s.initFrom() != null) {
            o.put("init_from", s.initFrom().toAbsolutePath().normalize().toString());
        }
        return o;
    }
}
