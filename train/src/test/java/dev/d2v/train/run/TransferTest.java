package dev.d2v.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.ModelConfig;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --init-from: an image run's trunk into a new audio run, local encoder and decoder left at their own init. */
class TransferTest {

    @TempDir
    Path dir;

    private Path imageCheckpoint(Data2VecConfig config) throws Exception {
        try (Trainer t = new Trainer(config.only(Modality.IMAGE), Device.cpu(), 3)) {
            t.step(SyntheticBatches.image(4, 1, 8, 0));
            t.step(SyntheticBatches.image(4, 1, 8, 1));
            return TrainerCheckpoints.save(t, dir.resolve("image"), new ObjectMapper().createObjectNode(),
                    CheckpointManifest.DataPosition.none()).folder();
        }
    }

    @Test
    void theTrunkComesFromTheCheckpointAndTheRestFromItsOwnInit() throws Exception {
        Data2VecConfig tiny = TinyConfigs.tiny();
        Path source = imageCheckpoint(tiny);
        try (Trainer image = new Trainer(tiny.only(Modality.IMAGE), Device.cpu(), 3);
             Trainer audio = new Trainer(tiny.only(Modality.AUDIO), Device.cpu(), 9);
             Trainer fresh = new Trainer(tiny.only(Modality.AUDIO), Device.cpu(), 9);
             NDManager m = NDManager.newBaseManager()) {
            TrainerCheckpoints.restore(image, CheckpointStore.read(source, m));
            Transfer.Copied c = Transfer.initFrom(audio, source, m);
            assertThat(c.sourceStep()).isEqualTo(2);
            assertThat(c.sourceTrunk()).isEqualTo("shared");
            assertThat(c.blocks()).isEqualTo(2);
            assertThat(c.tensors()).isEqualTo(2 * 12);   // weight and bias of qkv, proj, norm1, fc1, fc2, norm2
            for (String name : audio.student().view().keySet()) {
                NDArray got = audio.student().get(name);
                NDArray expected = name.startsWith("blocks.") ? image.student().get(name) : fresh.student().get(name);
                assertThat(got.contentEquals(expected)).as(name).isTrue();
                if (audio.teacher().has(name)) {
                    assertThat(audio.teacher().get(name).contentEquals(expected)).as("teacher " + name).isTrue();
                }
            }
            assertThat(image.student().get("blocks.0.attn.qkv.weight").contentEquals(fresh.student().get("blocks.0.attn.qkv.weight")))
                    .as("the source trunk differs from a fresh one: the copy is not vacuous").isFalse();
            // and it trains from there
            assertThat(audio.step(SyntheticBatches.audio(3, 24, 16, 0)).loss()).isFinite().isPositive();
            assertThatThrownBy(() -> Transfer.initFrom(audio, source, m)).hasMessageContaining("a new run");
        }
    }

    @Test
    void aTrunkOfAnotherWidthOrTooFewBlocksIsRefused() throws Exception {
        Data2VecConfig tiny = TinyConfigs.tiny();
        Path source = imageCheckpoint(tiny);
        Data2VecConfig wider = tiny.withModel(new ModelConfig(48, 2, 2, 2.0, 0.0));
        Data2VecConfig deeper = tiny.withModel(new ModelConfig(32, 3, 2, 2.0, 0.0));
        try (Trainer w = new Trainer(wider.only(Modality.AUDIO), Device.cpu(), 1);
             Trainer d = new Trainer(deeper.only(Modality.AUDIO), Device.cpu(), 1);
             NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> Transfer.initFrom(w, source, m)).hasMessageContaining("the trunks must have the same width");
            assertThatThrownBy(() -> Transfer.initFrom(d, source, m)).hasMessageContaining("its trunk has 2 blocks");
        }
    }
}
