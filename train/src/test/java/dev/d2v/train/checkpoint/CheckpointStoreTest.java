package dev.d2v.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

    @TempDir
    Path root;
    NDManager m;

    @BeforeEach
    void manager() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        m.close();
    }

    private static CheckpointManifest manifest(long step) {
        ObjectNode config = new ObjectMapper().createObjectNode();
        config.putObject("model").put("depth", 2).put("dim", 8);
        return CheckpointManifest.of(step, Map.of("image", 64L * step), config,
                Map.of("lr", 1e-3, "tau", 0.999), Map.of("mask", List.of(42L, -7L)),
                new CheckpointManifest.DataPosition(Map.of("d2v.batch.image:0", 12L), Map.of("epoch", "2")),
                Map.of("adamw", step));
    }

    private Map<String, Map<String, NDArray>> groups(float base) {
        return Map.of(
                "student", Map.of("blocks.0.w", m.create(new float[] {base, base + 1, base + 2, base + 3}, new Shape(2, 2)),
                        "cls", m.create(new float[] {base * 2})),
                "teacher", Map.of("blocks.0.w", m.create(new float[] {-base, 0.5f, 1e-20f, 3e38f}, new Shape(2, 2))),
                "optimizer", Map.of("step", m.create(new long[] {123L, Long.MAX_VALUE}),
                        "m.blocks.0.w", m.create(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, new Shape(2, 2))));
    }

    @Test
    void roundTripOfFp32AndInt64Groups() throws IOException {
        CheckpointManifest mf = manifest(123);
        Map<String, Map<String, NDArray>> in = groups(1.5f);
        CheckpointStore.Verified w = CheckpointStore.write(root, mf, in);
        assertThat(w.folder()).isEqualTo(root.resolve("step-000000123"));
        assertThat(w.manifest().files()).containsOnlyKeys("optimizer.safetensors", "student.safetensors",
                "teacher.safetensors");

        CheckpointStore.Loaded r = CheckpointStore.read(w.folder(), m);
        assertThat(r.manifest()).isEqualTo(w.manifest());
        assertThat(r.manifest().withFiles(Map.of())).isEqualTo(mf);
        assertThat(r.groups()).containsOnlyKeys("student", "teacher", "optimizer");
        for (var g : in.entrySet()) {
            assertThat(r.groups().get(g.getKey())).containsOnlyKeys(g.getValue().keySet().toArray(String[]::new));
            for (var t : g.getValue().entrySet()) {
                NDArray out = r.groups().get(g.getKey()).get(t.getKey());
                assertThat(out.getShape()).isEqualTo(t.getValue().getShape());
                assertThat(out.getDataType()).isEqualTo(t.getValue().getDataType());
                assertThat(out.toByteArray()).as(g.getKey() + "/" + t.getKey()).isEqualTo(t.getValue().toByteArray());
            }
        }
        assertThat(r.groups().get("optimizer").get("step").toLongArray()).containsExactly(123L, Long.MAX_VALUE);
        assertThat(r.manifest().dataPosition().offsets()).containsEntry("d2v.batch.image:0", 12L);
        assertThat(r.manifest().rng()).containsEntry("mask", List.of(42L, -7L));
        assertThat(r.manifest().config().at("/model/dim").asInt()).isEqualTo(8);
        // the manifest checksum file is in sha256sum's format
        assertThat(Files.readString(w.folder().resolve("manifest.sha256")))
                .isEqualTo(Digests.sha256Hex(w.folder().resolve("manifest.json")) + "  manifest.json\n");
    }

    @Test
    void flippedByteInATensorFileIsNamed() throws IOException {
        Path folder = CheckpointStore.write(root, manifest(5), groups(1f)).folder();
        Path teacher = folder.resolve("teacher.safetensors");
        flip(teacher, Files.size(teacher) - 3);
        assertThatThrownBy(() -> CheckpointStore.read(folder, m))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("teacher.safetensors").hasMessageContaining("SHA-256 mismatch")
                .satisfies(e -> assertThat(((CheckpointException) e).file()).isEqualTo(teacher));
    }

    @Test
    void flippedByteInTheManifestIsNamed() throws IOException {
        Path folder = CheckpointStore.write(root, manifest(5), groups(1f)).folder();
        Path mf = folder.resolve("manifest.json");
        flip(mf, 40);
        assertThatThrownBy(() -> CheckpointStore.read(folder, m))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("manifest.json").hasMessageContaining("corrupt manifest")
                .satisfies(e -> assertThat(((CheckpointException) e).file()).isEqualTo(mf));
    }

    @Test
    void truncatedOrMissingFilesAreNamed() throws IOException {
        Path folder = CheckpointStore.write(root, manifest(5), groups(1f)).folder();
        Path student = folder.resolve("student.safetensors");
        byte[] b = Files.readAllBytes(student);
        Files.write(student, Arrays.copyOf(b, b.length - 8));
        assertThatThrownBy(() -> CheckpointStore.verify(folder)).hasMessageContaining("student.safetensors")
                .hasMessageContaining("truncated");
        Files.delete(student);
        assertThatThrownBy(() -> CheckpointStore.verify(folder)).hasMessageContaining("student.safetensors")
                .hasMessageContaining("missing");
    }

    @Test
    void halfWrittenTempFolderIsIgnored() throws IOException {
        CheckpointStore.write(root, manifest(10), groups(1f));
        // a write cut off before its rename: a temp folder with a partial group file and no manifest
        Path tmp = Files.createDirectory(root.resolve(".tmp-step-000000020-12345"));
        Files.write(tmp.resolve("student.safetensors"), new byte[] {1, 2, 3});
        assertThat(CheckpointStore.list(root)).extracting(CheckpointStore.Entry::step).containsExactly(10L);
        CheckpointStore.Newest n = CheckpointStore.newestValid(root);
        assertThat(n.checkpoint()).get().extracting(v -> v.manifest().step()).isEqualTo(10L);
        assertThat(n.rejected()).isEmpty();
        assertThat(CheckpointStore.prune(root, new RetentionPolicy(3, 0))).containsExactly(tmp);
        assertThat(tmp).doesNotExist();
    }

    @Test
    void newestValidSkipsACorruptNewestAndSaysWhy() throws IOException {
        CheckpointStore.write(root, manifest(10), groups(1f));
        CheckpointStore.write(root, manifest(20), groups(2f));
        Path newest = CheckpointStore.write(root, manifest(30), groups(3f)).folder();
        flip(newest.resolve("student.safetensors"), 100);
        assertThat(CheckpointStore.list(root)).extracting(CheckpointStore.Entry::step).containsExactly(30L, 20L, 10L);
        CheckpointStore.Newest n = CheckpointStore.newestValid(root);
        assertThat(n.checkpoint()).get().extracting(v -> v.manifest().step()).isEqualTo(20L);
        assertThat(n.rejected()).singleElement().satisfies(r -> {
            assertThat(r.folder()).isEqualTo(newest);
            assertThat(r.reason()).contains("student.safetensors");
        });
    }

    @Test
    void retentionKeepsTheLastKAndEveryMth() throws IOException {
        RetentionPolicy p = new RetentionPolicy(2, 100);
        assertThat(p.kept(List.of(0L, 50L, 100L, 150L, 200L, 250L, 300L, 350L)))
                .containsExactly(0L, 100L, 200L, 300L, 350L);
        assertThat(new RetentionPolicy(3, 0).kept(List.of(1L, 2L, 3L, 4L, 5L))).containsExactly(3L, 4L, 5L);
        assertThatThrownBy(() -> new RetentionPolicy(0, 10)).hasMessageContaining("keepLast");

        for (long s : new long[] {50, 100, 150, 200, 250}) {
            CheckpointStore.write(root, manifest(s), Map.of("student", Map.of("w", m.create(new float[] {s}))));
        }
        List<Path> deleted = CheckpointStore.prune(root, p);
        assertThat(deleted).containsExactlyInAnyOrder(root.resolve("step-000000050"), root.resolve("step-000000150"));
        assertThat(CheckpointStore.list(root)).extracting(CheckpointStore.Entry::step).containsExactly(250L, 200L, 100L);
    }

    @Test
    void unknownFormatVersionIsRefused() throws IOException {
        Path folder = CheckpointStore.write(root, manifest(7), groups(1f)).folder();
        Path mf = folder.resolve("manifest.json");
        String json = Files.readString(mf).replace("\"formatVersion\" : 1", "\"formatVersion\" : 2");
        Files.writeString(mf, json);
        // a consistent checksum, as a newer build would have written it
        Files.writeString(folder.resolve("manifest.sha256"), Digests.sha256Hex(json.getBytes(StandardCharsets.UTF_8))
                + "  manifest.json\n");
        assertThatThrownBy(() -> CheckpointStore.read(folder, m))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("format version 2 is not supported (this build reads 1)");
    }

    @Test
    void anExistingStepIsNotOverwritten() throws IOException {
        CheckpointStore.write(root, manifest(7), groups(1f));
        assertThatThrownBy(() -> CheckpointStore.write(root, manifest(7), groups(2f)))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("already exists");
        try (var s = Files.list(root)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("step-000000007");
        }
    }

    @Test
    void failedReadLeavesNothingInTheManager() throws IOException {
        Path folder = CheckpointStore.write(root, manifest(3), groups(1f)).folder();
        // a valid checksum over a file that is not safetensors: the tensor read fails after others loaded
        Path t = folder.resolve("teacher.safetensors");
        Files.write(t, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, '{'});
        String mfJson = Files.readString(folder.resolve("manifest.json"));
        CheckpointManifest mf = CheckpointManifest.fromJson(mfJson.getBytes(StandardCharsets.UTF_8), t);
        var files = new TreeMap<>(mf.files());
        files.put("teacher.safetensors", new CheckpointManifest.FileDigest(9, Digests.sha256Hex(t)));
        byte[] json = mf.withFiles(files).toJson();
        Files.write(folder.resolve("manifest.json"), json);
        Files.writeString(folder.resolve("manifest.sha256"), Digests.sha256Hex(json) + "  manifest.json\n");
        try (NDManager scope = m.newSubManager()) {
            assertThatThrownBy(() -> CheckpointStore.read(folder, scope)).hasMessageContaining("teacher.safetensors");
            assertThat(scope.getManagedArrays()).isEmpty();
        }
    }

    @Test
    void configHashIgnoresFieldOrder() throws IOException {
        ObjectMapper json = new ObjectMapper();
        CheckpointManifest a = manifest(1);
        ObjectNode reordered = json.createObjectNode();
        reordered.putObject("model").put("dim", 8).put("depth", 2);
        CheckpointManifest b = CheckpointManifest.of(1, Map.of(), reordered, Map.of(), Map.of(), null, Map.of());
        assertThat(a.configHash()).matches("[0-9a-f]{16}").isEqualTo(b.configHash());
        reordered.with("model").put("dim", 16);
        assertThat(CheckpointManifest.of(1, Map.of(), reordered, Map.of(), Map.of(), null, Map.of()).configHash())
                .isNotEqualTo(a.configHash());
    }

    static void flip(Path file, long at) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) at] ^= 0x10;
        Files.write(file, b);
    }
}
