package dev.d2v.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncoderExportTest {

    @TempDir
    Path dir;

    @Test
    void writesWeightsMetadataAndSidecar() throws IOException {
        ObjectNode config = new ObjectMapper().createObjectNode().put("dim", 8);
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = Map.of(
                    "image.patch_embed.weight", m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2)),
                    "blocks.0.attn.qkv.weight", m.create(new float[] {5, 6, 7}, new Shape(3, 1)));
            EncoderExport.Info info = new EncoderExport.Info(List.of(Modality.IMAGE, Modality.TEXT), config, 1200,
                    "step-000001200");
            Path file = EncoderExport.write(dir, t, info);
            assertThat(file).isEqualTo(dir.resolve("encoder.safetensors"));

            SafeTensors.Header h = SafeTensors.header(file);
            assertThat(h.metadata()).containsEntry("format", "d2v-encoder").containsEntry("format_version", "1")
                    .containsEntry("modalities", "image,text").containsEntry("step", "1200")
                    .containsEntry("checkpoint", "step-000001200").containsEntry("config", "{\"dim\":8}")
                    .containsKey("created_at");

            JsonNode side = new ObjectMapper().readTree(Files.readAllBytes(dir.resolve("encoder.json")));
            assertThat(side.get("sha256").asText()).isEqualTo(Digests.sha256Hex(file));
            assertThat(side.at("/tensors/image.patch_embed.weight/shape").toString()).isEqualTo("[1,1,2,2]");
            assertThat(side.at("/tensors/blocks.0.attn.qkv.weight/dtype").asText()).isEqualTo("F32");

            EncoderExport.Exported back = EncoderExport.read(dir, m);
            assertThat(back.info()).isEqualTo(info);
            assertThat(back.tensors().get("blocks.0.attn.qkv.weight").toFloatArray()).containsExactly(5, 6, 7);

            CheckpointStoreTest.flip(file, Files.size(file) - 1);
            assertThatThrownBy(() -> EncoderExport.read(dir, m)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("encoder.safetensors").hasMessageContaining("SHA-256 mismatch");
        }
    }
}
