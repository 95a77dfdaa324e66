package dev.d2v.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A package from a real checkpoint: what model.json records, that ONNX Runtime opens every model, and the refusals. */
class ExportPackageTest {

    @TempDir
    Path dir;

    private Path checkpoint;
    private Path vocabularyFile;

    @BeforeEach
    void checkpointOfTwoSteps() throws IOException {
        TextTransformConfig text = TextTransformConfig.defaults();
        vocabularyFile = dir.resolve("run.vocab");
        Vocabulary.build(List.of("one two three", "four five"), new TextAnalysis(text.analyzer()), text).save(vocabularyFile);
        ObjectNode run = new ObjectMapper().createObjectNode();
        run.put("vocabulary", vocabularyFile.toString());
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 1)) {
            t.step(SyntheticBatches.image(4, 1, 8, 0));
            t.step(SyntheticBatches.text(3, 16, 50, 0));
            checkpoint = TrainerCheckpoints.save(t, dir.resolve("checkpoints"), run,
                    CheckpointManifest.DataPosition.none()).folder();
        }
    }

    @Test
    void aPackageCarriesTheModelsTheirHashesAndThePreprocessing() throws Exception {
        Path out = dir.resolve("export");
        ExportPackage.Loaded p = ExportPackage.fromCheckpoint(checkpoint, List.of(), out, "test");
        assertThat(p.modalities()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.TEXT);
        assertThat(p.step()).isEqualTo(2);
        JsonNode m = p.manifest();
        assertThat(m.path("source").path("id").asText()).isEqualTo(checkpoint.getFileName().toString());
        assertThat(m.path("source").path("student_sha256").asText()).hasSize(64);
        assertThat(m.path("config").path("model").path("model").path("dim").asInt()).isEqualTo(32);
        Transforms defaults = Transforms.defaults();
        for (Modality mod : Modality.values()) {
            JsonNode pre = m.path("modalities").path(mod.id()).path("preprocessing");
            Vocabulary v = mod == Modality.TEXT ? Vocabulary.load(vocabularyFile) : null;
            assertThat(pre.path("config_hash").asText()).isEqualTo(String.format("%016x", defaults.configHash(mod, v)));
            assertThat(Files.size(p.model(mod))).isEqualTo(m.path("modalities").path(mod.id()).path("bytes").asLong());
        }
        assertThat(Files.readAllBytes(out.resolve(ExportPackage.VOCABULARY))).isEqualTo(Files.readAllBytes(vocabularyFile));
        assertThat(m.path("modalities").path("text").path("inputs").get(0).path("name").asText()).isEqualTo("ids");

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (Modality mod : p.modalities()) {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession s = env.createSession(p.model(mod).toString(), o)) {
                assertThat(s.getOutputNames()).containsExactly("tokens", "pooled", "layers");
            }
        }
    }

    @Test
    void aChangedModelOrVocabularyIsRefusedOnLoad() throws Exception {
        Path out = dir.resolve("export");
        ExportPackage.fromCheckpoint(checkpoint, List.of(Modality.IMAGE, Modality.TEXT), out, "test");
        try (RandomAccessFile f = new RandomAccessFile(out.resolve("image.onnx").toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x40);
        }
        assertThatThrownBy(() -> ExportPackage.load(out)).isInstanceOf(IOException.class)
                .hasMessageContaining("image.onnx does not match its SHA-256");

        Path quantized = dir.resolve("quantized");
        ExportPackage.Loaded q = ExportPackage.fromCheckpoint(checkpoint, List.of(Modality.TEXT), true, quantized, "test");
        assertThat(q.int8Model(Modality.TEXT)).contains(quantized.resolve("text.int8.onnx"));
        assertThat(q.manifest().path("modalities").path("text").path("int8").path("sha256").asText()).hasSize(64);
        Files.write(quantized.resolve("text.int8.onnx"), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        assertThatThrownBy(() -> ExportPackage.load(quantized)).hasMessageContaining("text.int8.onnx does not match");

        Path again = dir.resolve("again");
        ExportPackage.fromCheckpoint(checkpoint, List.of(Modality.TEXT), again, "test");
        assertThat(ExportPackage.load(again).int8Model(Modality.TEXT)).isEmpty();
        Files.delete(again.resolve(ExportPackage.VOCABULARY));
        assertThatThrownBy(() -> ExportPackage.load(again)).hasMessageContaining("vocabulary.txt is missing");
        assertThatThrownBy(() -> ExportPackage.load(dir)).hasMessageContaining("has no model.json");
    }

    @Test
    void textNeedsTheVocabularyAndAModalityMustBeInTheCheckpoint() throws Exception {
        Files.delete(vocabularyFile);
        assertThatThrownBy(() -> ExportPackage.fromCheckpoint(checkpoint, List.of(Modality.TEXT), dir.resolve("t"), "test"))
                .hasMessageContaining("needs the vocabulary").hasMessageContaining("is missing");
        // image alone needs no vocabulary
        assertThat(ExportPackage.fromCheckpoint(checkpoint, List.of(Modality.IMAGE), dir.resolve("i"), "test").modalities())
                .containsExactly(Modality.IMAGE);
    }
}
