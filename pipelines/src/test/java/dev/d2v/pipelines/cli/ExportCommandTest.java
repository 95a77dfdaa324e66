package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.export.ExportPackage;
import dev.d2v.infra.Modality;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `d2v export` on a pretrained image checkpoint: the package, and the refusals a user can act on (exit 2). */
class ExportCommandTest {

    @TempDir
    static Path dir;

    static Path checkpoint;

    @BeforeAll
    static void imageCheckpoint() throws IOException {
        Path images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "1",
                "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        checkpoint = CheckpointStore.list(run.resolve("checkpoints")).get(0).folder();
    }

    @Test
    void exportsTheCheckpointsEncoderAsAVerifiedPackage() throws IOException {
        Path out = dir.resolve("export");
        assertThat(Main.run("export", "--checkpoint", checkpoint.toString(), "--int8", "--out", out.toString())).isZero();
        ExportPackage.Loaded p = ExportPackage.load(out);
        assertThat(p.modalities()).containsExactly(Modality.IMAGE);
        assertThat((double) Files.size(p.int8Model(Modality.IMAGE).orElseThrow()) / Files.size(p.model(Modality.IMAGE)))
                .isLessThanOrEqualTo(0.35);
        assertThat(p.step()).isEqualTo(1);
        assertThat(Files.size(out.resolve("image.onnx"))).isGreaterThan(1_000_000);   // the cpu preset's ~1.8M weights
    }

    @Test
    void anotherFormatAModalityNotTrainedOrAMissingCheckpointIsAUserError() {
        Path out = dir.resolve("refused");
        assertThat(Main.run("export", "--checkpoint", checkpoint.toString(), "--format", "torchscript", "--out",
                out.toString())).isEqualTo(2);
        assertThat(Main.run("export", "--checkpoint", checkpoint.toString(), "--modality", "text", "--out",
                out.toString())).isEqualTo(2);
        assertThat(Main.run("export", "--checkpoint", dir.resolve("nowhere").toString(), "--out", out.toString()))
                .isEqualTo(2);
        assertThat(out.resolve(ExportPackage.MANIFEST)).doesNotExist();
    }
}
