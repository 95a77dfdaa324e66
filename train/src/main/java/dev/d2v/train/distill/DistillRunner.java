package dev.d2v.train.distill;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.ModalityConfig;
import dev.d2v.train.config.ModelConfig;
import dev.d2v.train.config.TargetConfig;
import dev.d2v.train.run.Devices;
import dev.d2v.train.run.JsonLinesFile;
import dev.d2v.train.run.LocalBatchSource;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.schedule.Schedules;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code ./d2v distill}: a smaller student trained on one modality's data to reproduce a frozen teacher checkpoint's
 * features ({@link Distiller}), through the teacher's own transforms and vocabulary, with checkpoints that resume
 * exactly where they stopped (weights, optimizer, data position) and that {@code ./d2v evaluate} reads as any
 * checkpoint (the manifest's model config is the student's).
 */
public final class DistillRunner {

    /**
     * @param teacher    the teacher checkpoint folder
     * @param modality   the modality distilled
     * @param data       dataset name or folder (its train split)
     * @param preset     the student's model, or null for half the teacher ({@link #studentConfig})
     * @param presetName how the start line names it
     * @param batchSize  samples per step
     * @param steps      train to this step
     * @param timeBudget stop after this much wall time (null: none)
     * @param out        run folder: checkpoints/, metrics.jsonl
     */
    public record Settings(Path teacher, Modality modality, String data, DataContext dataContext, Data2VecConfig preset,
                           String presetName, int batchSize, long steps, Duration timeBudget, Path out, String device,
                           Integer threads, long seed, long checkpointEvery, int keep) {}

    /** What a run did: the steps of this call, the step reached, the last checkpoint (null if none new). */
    public record Result(long stepsThisRun, long step, Path lastCheckpoint, long studentParameters, long teacherParameters) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;

    public DistillRunner(PrintStream out) {
        this.out = out;
    }

    public Result run(Settings s, BooleanSupplier stop) throws IOException {
        Modality m = s.modality();
        Device dev = Devices.open(s.device(), s.threads());
        Path run = s.out().toAbsolutePath();
        Path checkpoints = run.resolve("checkpoints");
        Files.createDirectories(run);
        try (NDManager scratch = NDManager.newBaseManager(dev)) {
            CheckpointStore.Loaded teacherCk = CheckpointStore.read(s.teacher(), scratch);
            Data2VecConfig teacherConfig = TrainerCheckpoints.modelConfig(teacherCk.manifest());
            Map<String, NDArray> teacherWeights = teacherCk.groups().get("student");
            if (teacherWeights == null) {
                throw new CheckpointException(s.teacher(), "has no student group");
            }
            JsonNode teacherRun = teacherCk.manifest().config().path(TrainerCheckpoints.RUN);
            Transforms transforms = teacherRun.has("transforms")
                    ? JSON.treeToValue(teacherRun.get("transforms"), Transforms.class) : Transforms.defaults();
            Vocabulary vocab = m == Modality.TEXT && teacherRun.hasNonNull("vocabulary")
                    ? Vocabulary.load(Path.of(teacherRun.get("vocabulary").asText())) : null;
            if (m == Modality.TEXT && vocab == null) {
                throw new IllegalArgumentException("the teacher checkpoint names no text vocabulary");
            }
            Data2VecConfig student = studentConfig(s.preset(), teacherConfig, m).forSteps(s.steps());
            LocalSource all = LocalSource.open(s.data(), m, s.dataContext());
            LocalSource train = all.hasSplit("train") ? all.split("train") : all;
            LocalBatches batches = new LocalBatches(train, transforms, vocab, LocalBatches.Options.training(s.batchSize(), s.seed()));

            try (Distiller d = new Distiller(teacherConfig, teacherWeights, student, m, dev, s.seed());
                 JsonLinesFile metrics = new JsonLinesFile(run.resolve("metrics.jsonl"), "distillation metrics")) {
                CheckpointManifest.DataPosition position = resume(d, checkpoints, scratch);
                LocalBatches.BatchIterator it = batches.iterator(LocalBatchSource.resumeAt(position), Long.MAX_VALUE);
                out.printf("distill %s from %s (step %d, %,d encoder parameters) into %s (%,d), on %s (%d records), "
                                + "batch %d, %s, until step %d%n", m.id(), s.teacher(), teacherCk.manifest().step(),
                        d.teacherEncoderParameters(), s.presetName(), d.studentEncoderParameters(), s.data(), train.size(),
                        s.batchSize(), dev, s.steps());
                ObjectNode runInfo = runInfo(s, transforms, teacherCk.manifest(), teacherRun);
                long start = System.nanoTime();
                long first = d.stepsDone();
                Path last = null;
                try (Progress progress = new Progress("distill " + m.id(), s.steps())) {
                    progress.set(d.stepsDone(), "");
                    while (d.stepsDone() < s.steps() && !stop.getAsBoolean()
                            && (s.timeBudget() == null || System.nanoTime() - start < s.timeBudget().toNanos())) {
                        Minibatch b = it.next();
                        Distiller.Step st = d.step(b);
                        ObjectNode line = JSON.createObjectNode();
                        line.put("step", st.step());
                        line.put("loss", st.loss());
                        line.put("token_loss", st.tokenLoss());
                        line.put("pooled_loss", st.pooledLoss());
                        line.put("lr", st.lr());
                        line.put("grad_norm", st.gradNorm());
                        line.put("batch", st.batch());
                        line.put("seconds", st.nanos() / 1e9);
                        metrics.append(line);
                        progress.set(d.stepsDone(), String.format("loss %.4f lr %.2e", st.loss(), st.lr()));
                        if (s.checkpointEvery() > 0 && d.stepsDone() % s.checkpointEvery() == 0 && d.stepsDone() < s.steps()) {
                            last = save(d, checkpoints, runInfo, it.position(), s.keep());
                        }
                    }
                }
                if (d.stepsDone() > first) {
                    last = save(d, checkpoints, runInfo, it.position(), s.keep());
                    out.printf("distilled %d steps (step %d); checkpoint %s%n", d.stepsDone() - first, d.stepsDone(), last);
                } else {
                    out.printf("nothing to do at step %d%n", d.stepsDone());
                }
                return new Result(d.stepsDone() - first, d.stepsDone(), last, d.studentEncoderParameters(),
                        d.teacherEncoderParameters());
            }
        } catch (CheckpointException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The student: the given preset, or without one half the teacher (half the width, depth and heads, no prenet,
     * targets over at most its blocks); either way restricted to m, with the teacher's local encoder shape (patch,
     * image size, mels, vocabulary), so that it takes the teacher's inputs.
     */
    public static Data2VecConfig studentConfig(Data2VecConfig preset, Data2VecConfig teacher, Modality m) {
        Data2VecConfig base;
        if (preset != null) {
            base = preset.restrictTo(List.of(m));
        } else {
            ModelConfig t = teacher.model();
            int heads = Math.max(1, t.heads() / 2);
            int dim = Math.max(heads, t.dim() / 2 / heads * heads);
            int depth = Math.max(1, t.depth() / 2);
            Data2VecConfig only = teacher.restrictTo(List.of(m));
            TargetConfig targets = only.modality(m).targets();
            ModalityConfig section = only.modality(m).withPrenetAndTargets(0, new TargetConfig(
                    Math.min(targets.averageTopKLayers(), depth), targets.instanceNorm(), targets.finalNorm(),
                    targets.centerPositions()));
            base = new Data2VecConfig(new ModelConfig(dim, depth, heads, t.mlpRatio(), t.dropout()),
                    m == Modality.IMAGE ? section : null, m == Modality.AUDIO ? section : null,
                    m == Modality.TEXT ? section : null, only.ema(), only.optim(), only.collapseGuard());
        }
        return base.with(m, base.modality(m).withLocalEncoder(teacher.modality(m).localEncoder()));
    }

    private CheckpointManifest.DataPosition resume(Distiller d, Path checkpoints, NDManager scratch) throws IOException {
        CheckpointStore.Newest newest = CheckpointStore.newestValid(checkpoints);
        for (CheckpointStore.Rejected r : newest.rejected()) {
            out.println("checkpoint " + r.folder() + " is not usable: " + r.reason());
        }
        if (newest.checkpoint().isEmpty()) {
            return CheckpointManifest.DataPosition.none();
        }
        try (NDManager scope = scratch.newSubManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(newest.checkpoint().get().folder(), scope);
            d.restore(loaded.groups(), loaded.manifest().optimizerSteps(), loaded.manifest().step());
            out.println("resumed from " + loaded.folder() + " at step " + loaded.manifest().step());
            return loaded.manifest().dataPosition();
        } catch (CheckpointException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static Path save(Distiller d, Path checkpoints, ObjectNode runInfo, LocalBatches.Position p, int keep)
            throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.set(TrainerCheckpoints.MODEL, JSON.readTree(d.studentConfig().toJson()));
        config.set(TrainerCheckpoints.RUN, runInfo);
        Map<String, Double> schedule = new LinkedHashMap<>();
        schedule.put("lr", Schedules.learningRate(d.studentConfig().optim(), d.stepsDone()));
        CheckpointManifest.DataPosition position = new CheckpointManifest.DataPosition(Map.of(),
                Map.of("epoch", Long.toString(p.epoch()), "next_item", Integer.toString(p.nextItem())));
        CheckpointManifest m = CheckpointManifest.of(d.stepsDone(), Map.of(d.modality().id(), 0L), config, schedule,
                Map.of(), position, d.optimizerCounts());
        CheckpointStore.pruneBeforeWrite(checkpoints, new RetentionPolicy(keep, 0), d.stepsDone());
        return CheckpointStore.write(checkpoints, m, d.tensors()).folder();
    }

    private static ObjectNode runInfo(Settings s, Transforms t, CheckpointManifest teacher, JsonNode teacherRun) {
        ObjectNode o = JSON.createObjectNode();
        o.put("mode", "distill");
        o.put("modality", s.modality().id());
        o.put("data", s.data());
        o.put("batch_size", s.batchSize());
        o.put("teacher", s.teacher().toAbsolutePath().normalize().toString());
        o.put("teacher_step", teacher.step());
        o.put("teacher_config_hash", teacher.configHash());
        o.set("transforms", JSON.valueToTree(t));
        if (teacherRun.hasNonNull("vocabulary")) {
            o.set("vocabulary", teacherRun.get("vocabulary"));
            o.set("vocabulary_hash", teacherRun.get("vocabulary_hash"));
        }
        return o;
    }
}
