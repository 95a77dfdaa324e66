package dev.d2v.train.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.step.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Cross-modality transfer: a new run's trunk (the main transformer blocks) starts from another checkpoint's student
 * trunk, while its local encoders, prenet blocks and decoders start from their own initialisation, as when a
 * data2vec trunk pretrained on one modality is fine-tuned on another. Student and teacher both get the copied blocks
 * (the teacher starts as the student's copy). The optimizer state, counters and schedules stay at step 0.
 */
public final class Transfer {

    private Transfer() {}

    /** What was copied: the source checkpoint, its step, the modality its trunk was read from, and the blocks. */
    public record Copied(Path source, long sourceStep, String sourceTrunk, int blocks, int tensors) {}

    /**
     * Copies the source checkpoint's trunk into every trunk of the trainer's model (the shared one, or each
     * modality's own). The source trunk is its shared one, or, with a trunk per modality, that of the source's only
     * modality (or of the modality trained here, when the source has it).
     *
     * @throws IllegalArgumentException when the trainer has already trained, or the shapes do not match (the message
     *                                  names the parameter)
     */
    public static Copied initFrom(Trainer t, Path checkpoint, NDManager manager) throws CheckpointException {
        if (t.stepsDone() > 0) {
            throw new IllegalArgumentException("--init-from applies to a new run, and this one is at step " + t.stepsDone());
        }
        try (NDManager scope = manager.newSubManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(checkpoint, scope);
            Data2VecConfig sourceConfig = TrainerCheckpoints.modelConfig(loaded.manifest());
            Map<String, NDArray> student = loaded.groups().get("student");
            if (student == null) {
                throw new CheckpointException(checkpoint, "has no student group");
            }
            Data2VecModel source = new Data2VecModel(sourceConfig);
            Data2VecModel target = t.model();
            String sourceTrunk = sourceTrunk(sourceConfig, target.config());
            Modality sourceModality = sourceTrunk.equals("shared") ? null : Modality.parse(sourceTrunk);
            int copied = 0;
            int blocks = 0;
            int available = sourceModality == null ? source.trunkDepth() : source.mainBlocks(sourceModality);
            Modality fromPath = sourceModality != null ? sourceModality : sourceConfig.modalities().get(0);
            List<String> trunks = new ArrayList<>();
            if (target.config().model().sharedTrunk()) {
                for (int i = 0; i < target.trunkDepth(); i++) {
                    trunks.add("blocks." + i);
                }
            } else {
                for (Modality m : target.config().modalities()) {
                    for (int i = 0; i < target.mainBlocks(m); i++) {
                        trunks.add(target.trunkBlock(m, i));
                    }
                }
            }
            for (String to : trunks) {
                int i = Integer.parseInt(to.substring(to.lastIndexOf('.') + 1));
                if (i >= available) {
                    throw new IllegalArgumentException("--init-from " + checkpoint + ": its trunk has " + available
                            + " blocks, the trunk here needs block " + i);
                }
                String from = source.trunkBlock(fromPath, i) + ".";
                copied += copyBlock(student, from, t.student(), to + ".", checkpoint);
                copyBlock(student, from, t.teacher(), to + ".", checkpoint);
                blocks++;
            }
            return new Copied(checkpoint, loaded.manifest().step(), sourceTrunk, blocks, copied);
        }
    }

    private static String sourceTrunk(Data2VecConfig source, Data2VecConfig target) {
        if (source.model().sharedTrunk()) {
            return "shared";
        }
        List<Modality> here = target.modalities();
        if (here.size() == 1 && source.modality(here.get(0)) != null) {
            return here.get(0).id();
        }
        if (source.modalities().size() == 1) {
            return source.modalities().get(0).id();
        }
        throw new IllegalArgumentException("--init-from: the checkpoint has a trunk per modality " + source.modalities()
                + "; which one to start from is ambiguous here");
    }

    /** Copies every parameter under prefix from into prefix to; returns how many. */
    private static int copyBlock(Map<String, NDArray> source, String from, Params target, String to, Path checkpoint) {
        List<String> names = new ArrayList<>();
        for (String name : target.view().keySet()) {
            if (name.startsWith(to)) {
                names.add(name);
            }
        }
        for (String name : names) {
            String sourceName = from + name.substring(to.length());
            NDArray s = source.get(sourceName);
            if (s == null) {
                throw new IllegalArgumentException("--init-from " + checkpoint + ": it has no " + sourceName);
            }
            NDArray dst = target.get(name);
            if (!s.getShape().equals(dst.getShape())) {
                throw new IllegalArgumentException("--init-from " + checkpoint + ": " + sourceName + " is " + s.getShape()
                        + ", " + name + " here is " + dst.getShape() + " (the trunks must have the same width)");
            }
            Params.copyInto(dst, s.toDevice(dst.getDevice(), false).toType(dst.getDataType(), false));
        }
        return names.size();
    }
}
