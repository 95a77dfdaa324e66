package dev.d2v.evaluate.encoder;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Params;
import dev.d2v.train.model.Readout;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.BatchTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frozen student encoder for probes: rebuilt from a checkpoint alone (its manifest carries the config), or randomly
 * initialised with the same shape as the baseline. {@link #features} gives the outputs of a {@link Readout}, mean-pooled
 * over the real tokens (no mask, eval mode): the fixed representation that the linear probe and k-NN read; fine-tuning
 * starts from the last block's.
 */
public final class Encoder implements AutoCloseable {

    private final Data2VecConfig config;
    private final Data2VecModel model;
    private final NDManager manager;
    private final Params params;
    private final long step;

    private Encoder(Data2VecConfig config, NDManager manager, Params params, long step) {
        this.config = config;
        this.model = new Data2VecModel(config);
        this.manager = manager;
        this.params = params;
        this.step = step;
    }

    /** The student of a verified checkpoint (checksums are checked on read). */
    public static Encoder fromCheckpoint(Path folder, Device device) throws CheckpointException {
        NDManager manager = NDManager.newBaseManager(device);
        try (NDManager scratch = manager.newSubManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(folder, scratch);
            Data2VecConfig config = TrainerCheckpoints.modelConfig(loaded.manifest());
            Map<String, NDArray> student = loaded.groups().get("student");
            if (student == null) {
                throw new CheckpointException(folder, "has no student group");
            }
            Params p = new Data2VecModel(config).declare(manager, 0);
            p.load(student);
            return new Encoder(config, manager, p, loaded.manifest().step());
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        } catch (CheckpointException e) {
            manager.close();
            throw e;
        }
    }

    /** A randomly initialised encoder of the given shape (the baseline every probe is compared with). */
    public static Encoder randomInit(Data2VecConfig config, long seed, Device device) {
        NDManager manager = NDManager.newBaseManager(device);
        return new Encoder(config, manager, new Data2VecModel(config).declare(manager, seed), -1);
    }

    public Data2VecConfig config() {
        return config;
    }

    /** The checkpoint's step, -1 for a random init. */
    public long step() {
        return step;
    }

    /** Width of a feature vector. */
    public int dim() {
        return config.model().dim();
    }

    /** Width of a feature vector of modality m under a readout. */
    public int dim(Modality m, Readout readout) {
        return readout.dim(dim(), model.mainBlocks(m));
    }

    /** Mean-pooled features of the last block, one row per sample in batch order: (sum of batch sizes) x D. */
    public float[][] features(Modality m, List<Minibatch> batches) {
        return features(m, batches, Readout.LAST, () -> { });
    }

    /**
     * Features of a readout, one row per sample in batch order, calling {@code pace} after each batch (the evaluator's
     * CPU governor sleeps there).
     */
    public float[][] features(Modality m, List<Minibatch> batches, Readout readout, Runnable pace) {
        int total = batches.stream().mapToInt(Minibatch::batchSize).sum();
        float[][] out = new float[total][];
        int row = 0;
        int d = dim(m, readout);
        for (Minibatch b : batches) {
            try (NDManager scope = manager.newSubManager(); NDScope ignored = new NDScope()) {
                BatchTensors in = BatchTensors.of(b, config.modality(m), scope);
                float[] f = model.features(params, m, in.input(), in.validTokens(), readout).toFloatArray();
                for (int i = 0; i < b.batchSize(); i++) {
                    out[row++] = Arrays.copyOfRange(f, i * d, (i + 1) * d);
                }
            }
            pace.run();
        }
        return out;
    }

    /** The parameters by name (for fine-tuning). */
    public Map<String, NDArray> parameters() {
        return new LinkedHashMap<>(params.view());
    }

    @Override
    public void close() {
        manager.close();
    }
}
