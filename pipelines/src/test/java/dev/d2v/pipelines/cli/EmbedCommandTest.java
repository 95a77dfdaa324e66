package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.export.ExportPackage;
import dev.d2v.export.OnnxEncoder;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.pipelines.Main;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.model.Readout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `d2v embed` with an exported image encoder: the same features as the evaluation's DJL encoder on the same inputs, a
 * corrupt image skipped with its reason, both output formats, and the user errors.
 */
class EmbedCommandTest {

    @TempDir
    static Path dir;

    static Path images;
    static Path checkpoint;
    static Path pkg;

    @BeforeAll
    static void exportedEncoder() throws IOException {
        images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "1",
                "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        checkpoint = CheckpointStore.list(run.resolve("checkpoints")).get(0).folder();
        pkg = dir.resolve("export");
        assertThat(Main.run("export", "--checkpoint", checkpoint.toString(), "--int8", "--out", pkg.toString())).isZero();
    }

    private static String run(int expected, String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(stdout);
        }
        String printed = buffer.toString(StandardCharsets.UTF_8);
        assertThat(code).as(printed).isEqualTo(expected);
        return printed;
    }

    @Test
    void theNpyRowsAreTheEvaluationEncodersFeaturesAndACorruptImageIsSkipped() throws Exception {
        Path in = dir.resolve("with-bad");
        copy(images, in);
        Files.write(in.resolve("train").resolve("left").resolve("bad.png"), "not a png at all".getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve("emb").resolve("features.npy");
        String printed = run(0, "embed", "--model", pkg.toString(), "--input", in.toString(), "--out", out.toString(),
                "--threads", "1");
        assertThat(printed).contains("embedded 48 image inputs (960 features each)").contains("skipped 1");

        List<String> ids = Files.readAllLines(out.resolveSibling("features.npy.ids.txt"));
        assertThat(ids).hasSize(48).noneMatch(id -> id.endsWith("/bad"));
        float[][] rows = readNpy(out, 48, 960);

        // the evaluation's encoder (DJL, from the checkpoint) on the same inputs through the same transforms
        ExportPackage.Loaded p = ExportPackage.load(pkg);
        LocalBatches batches = new LocalBatches(LocalSource.path(in, Modality.IMAGE), p.transforms(Modality.IMAGE), null,
                LocalBatches.Options.evaluation(32));
        List<Minibatch> list = batches.epoch(0);
        List<String> djlIds = new ArrayList<>();
        list.forEach(b -> djlIds.addAll(b.sampleIds()));
        assertThat(djlIds).isEqualTo(ids);
        try (Encoder e = Encoder.fromCheckpoint(checkpoint, Device.cpu())) {
            float[][] expected = e.features(Modality.IMAGE, list, Readout.LAYERS, () -> {});
            for (int i = 0; i < expected.length; i++) {
                for (int j = 0; j < expected[i].length; j++) {
                    assertThat((double) rows[i][j]).as("row %d, feature %d", i, j)
                            .isCloseTo(expected[i][j], Offset.offset(1e-4 + 1e-3 * Math.abs(expected[i][j])));
                }
            }
        }
    }

    /** The Java API on raw file bytes: the rows `embed` writes for the same files, the corrupt one skipped with its reason. */
    @Test
    void theJavaApiEmbedsRawBytesAsTheCommandDoes() throws Exception {
        Path test = images.resolve("test");
        Path out = dir.resolve("emb").resolve("api-reference.npy");
        run(0, "embed", "--model", pkg.toString(), "--input", test.toString(), "--out", out.toString(), "--threads", "1");
        List<String> ids = Files.readAllLines(out.resolveSibling("api-reference.npy.ids.txt"));
        float[][] expected = readNpy(out, 16, 960);

        List<OnnxEncoder.Input> inputs = new ArrayList<>();
        try (var files = Files.walk(test)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                inputs.add(new OnnxEncoder.Input(f.getFileName().toString(), Files.readAllBytes(f)));
            }
        }
        inputs.add(1, new OnnxEncoder.Input("junk", "not a png at all".getBytes(StandardCharsets.UTF_8)));
        try (OnnxEncoder encoder = OnnxEncoder.load(pkg, Modality.IMAGE, OnnxEncoder.Options.defaults().withThreads(1))) {
            OnnxEncoder.Embeddings e = encoder.embed(inputs);
            assertThat(e.skipped()).extracting(OnnxEncoder.Skipped::id).containsExactly("junk");
            assertThat(e.skipped().get(0).reason()).isNotBlank();
            assertThat(e.vectors()).hasNumberOfRows(16);
            assertThat(e.ids()).doesNotContain("junk").hasSize(16);
            for (int i = 0; i < 16; i++) {
                String file = e.ids().get(i);
                int row = -1;
                for (int k = 0; k < ids.size(); k++) {
                    if (ids.get(k).endsWith(file.substring(0, file.lastIndexOf('.')))) {
                        row = k;
                    }
                }
                assertThat(row).as("the command embedded %s", file).isNotNegative();
                assertThat(e.vectors()[i]).containsExactly(expected[row], Offset.offset(1e-5f));
            }
            assertThat(encoder.embed(inputs.subList(0, 1), Readout.LAST).vectors()[0]).hasSize(192);
        }
    }

    @Test
    void jsonlCarriesTheLastBlocksMeanAndTheTokensAndInt8Runs() throws IOException {
        Path out = dir.resolve("emb").resolve("features.jsonl");
        run(0, "embed", "--model", pkg.toString(), "--input", images.resolve("test").toString(), "--out", out.toString(),
                "--readout", "last", "--tokens", "--int8", "--batch-size", "5");
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).hasSize(16);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.path("id").asText()).isNotEmpty();
        assertThat(first.path("embedding")).hasSize(192);
        assertThat(first.path("tokens")).hasSize(49);
        assertThat(first.path("tokens").get(0)).hasSize(192);
    }

    @Test
    void whatAUserCanFixExitsWith2() {
        Path out = dir.resolve("bad").resolve("x.npy");
        run(2, "embed", "--model", dir.toString(), "--input", images.toString(), "--out", out.toString());
        run(2, "embed", "--model", pkg.toString(), "--input", images.toString(), "--out", out.toString(), "--tokens");
        run(2, "embed", "--model", pkg.toString(), "--input", images.toString(), "--out", dir.resolve("x.csv").toString());
        run(2, "embed", "--model", pkg.toString(), "--input", dir.resolve("nowhere").toString(), "--out", out.toString());
        run(2, "embed", "--model", pkg.toString(), "--modality", "text", "--input", images.toString(), "--out", out.toString());
        assertThat(out).doesNotExist();
    }

    private static float[][] readNpy(Path file, int n, int d) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes[0] & 0xff).isEqualTo(0x93);
        assertThat(new String(bytes, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("NUMPY");
        int headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
        assertThat(header).contains("'descr': '<f4'").contains("'shape': (" + n + ", " + d + ")");
        assertThat((10 + headerLen) % 64).isZero();
        ByteBuffer b = ByteBuffer.wrap(bytes, 10 + headerLen, bytes.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.remaining()).isEqualTo(4 * n * d);
        float[][] rows = new float[n][d];
        for (float[] row : rows) {
            b.asFloatBuffer().get(row);
            b.position(b.position() + 4 * d);
        }
        return rows;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
