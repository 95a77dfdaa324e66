package dev.d2v.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.export.onnx.OnnxExport;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reader of root/image/current switches to the newly promoted package on its next call. */
class CurrentEncoderTest {

    @TempDir
    Path dir;

    private Path pkg(String name, long seed, long step) throws IOException {
        Data2VecConfig image = TinyConfigs.tiny().only(Modality.IMAGE);
        ObjectMapper json = new ObjectMapper();
        ObjectNode source = json.createObjectNode();
        source.put("id", name);
        source.put("step", step);
        try (NDManager m = NDManager.newBaseManager()) {
            Path out = dir.resolve("root").resolve("image").resolve(name);
            ExportPackage.write(image, OnnxExport.FloatWeights.of(new Data2VecModel(image).declare(m, seed).view()),
                    List.of(Modality.IMAGE), false, out, "test", source, json.createObjectNode(), Transforms.defaults(), null);
            return out;
        }
    }

    private void pointCurrentAt(String name) throws IOException {
        Path folder = dir.resolve("root").resolve("image");
        Path tmp = folder.resolve(".current.tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of(name));
        Files.move(tmp, folder.resolve("current"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void followsTheCurrentLink() throws Exception {
        pkg("step-1", 1, 100);
        pkg("step-2", 2, 200);
        Minibatch b = SyntheticBatches.image(3, 1, 8, 0);
        try (CurrentEncoder current = new CurrentEncoder(dir.resolve("root"), Modality.IMAGE,
                OnnxEncoder.Options.defaults().withThreads(1))) {
            assertThatThrownBy(current::encoder).hasMessageContaining("nothing promoted yet");
            pointCurrentAt("step-1");
            float[] first = current.encode(b).pooled();
            assertThat(current.step()).isEqualTo(100);
            assertThat(current.encode(b).pooled()).isEqualTo(first);
            pointCurrentAt("step-2");
            float[] second = current.encode(b).pooled();
            assertThat(current.step()).isEqualTo(200);
            assertThat(second).isNotEqualTo(first);
            try (OnnxEncoder direct = OnnxEncoder.load(dir.resolve("root").resolve("image").resolve("step-2"), Modality.IMAGE,
                    OnnxEncoder.Options.defaults().withThreads(1))) {
                assertThat(direct.encode(b).pooled()).isEqualTo(second);
            }
        }
    }
}
