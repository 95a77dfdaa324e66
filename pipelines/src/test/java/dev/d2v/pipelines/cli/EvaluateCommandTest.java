package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.evaluate.results.ResultsFile;
import dev.d2v.export.ExportPackage;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.config.ModelConfig;
import dev.d2v.train.model.Readout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.attribute.BasicFileAttributes;

/** `d2v evaluate --checkpoint` on a pretrained checkpoint and a PNG probe folder: the three protocols and their options. */
class EvaluateCommandTest {

    @TempDir
    static Path dir;

    static Path images;
    static Path checkpoint;
    /** The checkpoint before {@link #checkpoint} (step 1 and step 2). */
    static Path earlier;

    @BeforeAll
    static void checkpointAndProbeFolder() throws IOException {
        images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "2",
                "--batch-size", "8", "--threads", "1", "--checkpoint-every", "1", "--out", run.toString())).isZero();
        var checkpoints = CheckpointStore.list(run.resolve("checkpoints")); // newest first
        checkpoint = checkpoints.get(0).folder();
        earlier = checkpoints.get(1).folder();
    }

    record Run(int code, List<JsonNode> lines) {}

    private static Run evaluate(String out, String... extra) throws IOException {
        return evaluate(checkpoint, out, extra);
    }

    private static Run evaluate(Path checkpoint, String out, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("evaluate", "--checkpoint", checkpoint.toString(), "--task",
                images.toString(), "--json", "--threads", "1", "--out", dir.resolve(out).toString()));
        args.addAll(List.of(extra));
        PrintStream stdout = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            code = Main.run(args.toArray(String[]::new));
        } finally {
            System.setOut(stdout);
        }
        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String l : buffer.toString(StandardCharsets.UTF_8).split("\n")) {
            if (l.startsWith("{")) {
                lines.add(json.readTree(l));
            }
        }
        return new Run(code, lines);
    }

    /**
     * --promote with --promote-export: the first checkpoint evaluated is promoted and exported as image/current; the
     * state file names the best of the two, and current points at its package, which verifies.
     */
    @Test
    void promotionKeepsTheBestCheckpointAsTheCurrentPackage() throws IOException {
        Path promoted = dir.resolve("promoted");
        String[] promote = {"--no-finetune", "--promote", "halves:linear", "--promote-min-gain", "0", "--promote-export",
                promoted.toString()};
        Run first = evaluate(earlier, "promote", promote);
        assertThat(first.code()).isZero();
        Path current = promoted.resolve("image").resolve("current");
        assertThat(Files.isSymbolicLink(current)).isTrue();
        assertThat(ExportPackage.load(current).step()).isEqualTo(1);
        double firstAccuracy = first.lines().stream().filter(l -> l.get("protocol").asText().equals("linear"))
                .findFirst().orElseThrow().get("accuracy").asDouble();

        Run second = evaluate(checkpoint, "promote", promote);
        assertThat(second.code()).isZero();
        double secondAccuracy = second.lines().stream().filter(l -> l.get("protocol").asText().equals("linear"))
                .findFirst().orElseThrow().get("accuracy").asDouble();
        JsonNode state = new ObjectMapper().readTree(dir.resolve("promote").resolve("promotion.json").toFile());
        long bestStep = secondAccuracy >= firstAccuracy ? 2 : 1;
        assertThat(state.path("metric").asText()).isEqualTo("halves:linear");
        assertThat(state.path("modalities").path("image").path("step").asLong()).isEqualTo(bestStep);
        assertThat(ExportPackage.load(current).step()).isEqualTo(bestStep);

        assertThat(evaluate("refused", "--promote-export", promoted.toString()).code()).isEqualTo(2);
        assertThat(evaluate("refused", "--promote", "halves").code()).isEqualTo(2);
    }

    @Test
    void finetuneIsTheThirdProtocolWithARandomInitBaseline() throws IOException {
        Run r = evaluate("eval", "--finetune-steps", "3");
        assertThat(r.code()).isZero();
        assertThat(r.lines()).extracting(n -> n.get("protocol").asText()).containsExactly("linear", "knn", "finetune");
        JsonNode ft = r.lines().get(2);
        assertThat(ft.get("modality").asText()).isEqualTo("image");
        assertThat(ft.get("task").asText()).isEqualTo("halves");
        assertThat(ft.get("accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(ft.get("baseline_accuracy").isNumber()).as("random-init fine-tune measured").isTrue();

        JsonNode saved = new ObjectMapper().readTree(Files.readString(dir.resolve("eval").resolve("results")
                .resolve(Files.list(dir.resolve("eval").resolve("results")).findFirst().orElseThrow().getFileName())));
        JsonNode extras = null;
        for (JsonNode n : saved.get("results")) {
            if (n.get("protocol").asText().equals("finetune")) {
                extras = n.get("extras");
            }
        }
        assertThat(extras).isNotNull();
        assertThat(extras.get("steps").asDouble()).isEqualTo(3.0);
        assertThat(extras.get("train_rows").asDouble()).isEqualTo(32.0);
        assertThat(extras.get("test_rows").asDouble()).isEqualTo(16.0);
        assertThat(extras.get("final_train_loss").asDouble()).isPositive();
    }

    @Test
    void aCpuShareCapsThreadsAndIsRecorded() throws IOException {
        // 0.25 of this machine's cores: one thread, duty-cycled where that is more than the share (2 cores or fewer)
        Run r = evaluate("eval-share", "--no-finetune", "--cpu-share", "0.25");
        assertThat(r.code()).isZero();
        assertThat(r.lines()).extracting(n -> n.get("protocol").asText()).containsExactly("linear", "knn");
        Path results = dir.resolve("eval-share").resolve("results");
        JsonNode saved;
        try (var files = Files.list(results)) {
            saved = new ObjectMapper().readTree(files.findFirst().orElseThrow().toFile());
        }
        for (JsonNode n : saved.get("results")) {
            assertThat(n.get("extras").get("cpu_share").asDouble()).isEqualTo(0.25);
            assertThat(n.get("extras").get("cpu_threads").asDouble())
                    .isEqualTo(Math.max(1, Math.floor(0.25 * Runtime.getRuntime().availableProcessors())));
        }

        assertThat(evaluate("eval-bad", "--cpu-share", "0").code()).isEqualTo(2);
        assertThat(evaluate("eval-bad", "--cpu-share", "1.5").code()).isEqualTo(2);
        assertThat(evaluate("eval-bad", "--nice", "20").code()).isEqualTo(2);
        assertThat(Main.commandLine().getSubcommands().get("evaluate").getUsageMessage())
                .contains("--cpu-share").contains("--nice").contains("--max-checkpoints").contains("--idle-stop-seconds");
    }

    /** --readout last gives the linear probe the last block's D features, the default the layers' 5 D; k-NN reads D. */
    @Test
    void theReadoutDecidesWhatTheLinearProbeReads() throws IOException {
        for (String readout : List.of("last", "layers")) {
            Run r = evaluate("eval-readout-" + readout, "--no-finetune", "--readout", readout);
            assertThat(r.code()).isZero();
            Path results = dir.resolve("eval-readout-" + readout).resolve("results");
            JsonNode saved;
            try (var files = Files.list(results)) {
                saved = new ObjectMapper().readTree(files.findFirst().orElseThrow().toFile());
            }
            JsonNode linear = saved.get("results").get(0);
            JsonNode knn = saved.get("results").get(1);
            assertThat(linear.get("protocol").asText()).isEqualTo("linear");
            ModelConfig model = Data2VecConfig.cpu().model();   // the preset the checkpoint was pretrained with
            double d = model.dim();
            int blocks = Math.min(Readout.LAYER_BLOCKS, model.depth());
            assertThat(linear.get("extras").get("dims").asDouble()).isEqualTo(readout.equals("last") ? d : d * (1 + blocks));
            assertThat(knn.get("extras").get("dims").asDouble()).isEqualTo(d);
        }
        assertThat(evaluate("eval-bad", "--readout", "middle").code()).isEqualTo(2);
    }

    @Test
    void rawFeatureBaselineIsRecordedAndItsCachedFeaturesServeTheNextCheckpoint() throws IOException {
        Run first = evaluate(earlier, "eval-raw", "--no-finetune");
        assertThat(first.code()).isZero();
        assertThat(first.lines()).extracting(n -> n.get("protocol").asText()).containsExactly("linear", "knn");
        for (JsonNode n : first.lines()) {
            assertThat(n.get("raw_accuracy").isNumber()).as("raw features measured for %s", n.get("protocol")).isTrue();
            assertThat(n.get("baseline_accuracy").isNumber()).isTrue();
        }
        // a bright square in the left or the right half: a linear map of the pixels tells them apart
        assertThat(first.lines().get(0).get("raw_accuracy").asDouble()).isGreaterThanOrEqualTo(0.9);

        Path features = dir.resolve("eval-raw").resolve("features");
        List<Path> rawFiles = rawFeatureFiles(features);
        assertThat(rawFiles).hasSize(2)
                .allSatisfy(f -> assertThat(f.toString()).contains("/image/halves/"))
                .extracting(f -> f.getFileName().toString()).containsExactlyInAnyOrder("train.d2vf", "test.d2vf");
        List<Object> identity = fileIdentities(rawFiles);
        // beside them, the raw features' probe results, which a later checkpoint reads instead of refitting
        Path storedProbes;
        try (var files = Files.list(rawFiles.get(0).getParent())) {
            storedProbes = files.filter(f -> f.getFileName().toString().startsWith("probes-")).findFirst().orElseThrow();
        }
        List<Object> probesIdentity = fileIdentities(List.of(storedProbes));

        // the next checkpoint, in another process's worth of state: its own features, the raw ones read from the cache
        Run second = evaluate(checkpoint, "eval-raw", "--no-finetune");
        assertThat(second.code()).isZero();
        for (int i = 0; i < 2; i++) {
            assertThat(second.lines().get(i).get("raw_accuracy").asDouble())
                    .isEqualTo(first.lines().get(i).get("raw_accuracy").asDouble());
            assertThat(second.lines().get(i).get("step").asLong()).isEqualTo(2);
        }
        assertThat(rawFeatureFiles(features)).isEqualTo(rawFiles);
        assertThat(fileIdentities(rawFiles)).as("raw feature files not rewritten").isEqualTo(identity);
        assertThat(fileIdentities(List.of(storedProbes))).as("stored raw probe results not rewritten")
                .isEqualTo(probesIdentity);

        // the results files and the report keep it
        List<EvalResult> saved = ResultsFile.readAll(
                dir.resolve("eval-raw").resolve("results"), new ArrayList<>());
        assertThat(saved).hasSize(4).allSatisfy(r -> assertThat(r.rawAccuracy()).isEqualTo(
                first.lines().get(r.protocol() == EvalResult.Protocol.LINEAR ? 0 : 1)
                        .get("raw_accuracy").asDouble()));
        assertThat(Files.readString(dir.resolve("eval-raw").resolve("report.html")))
                .contains("<th>raw features</th>", "linear probe, raw features", "k-NN, raw features");
    }

    /** The feature files cached for the raw-feature baseline, sorted. */
    private static List<Path> rawFeatureFiles(Path features) throws IOException {
        try (var walk = Files.walk(features)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> features.relativize(p).getName(0).toString().startsWith("raw-features-v"))
                    .filter(p -> p.getFileName().toString().endsWith(".d2vf"))
                    .sorted().toList();
        }
    }

    /** Inode (a rename over the file gives a new one) and modification time of each file. */
    private static List<Object> fileIdentities(List<Path> files) throws IOException {
        List<Object> out = new ArrayList<>();
        for (Path f : files) {
            var a = Files.readAttributes(f, BasicFileAttributes.class);
            out.add(a.fileKey() + "@" + a.lastModifiedTime().toMillis());
        }
        return out;
    }

    @Test
    void noFinetuneLeavesTheFrozenProtocolsAndBudgetsAreChecked() throws IOException {
        Run off = evaluate("eval-off", "--no-finetune");
        assertThat(off.code()).isZero();
        assertThat(off.lines()).extracting(n -> n.get("protocol").asText()).containsExactly("linear", "knn");

        assertThat(evaluate("eval-bad", "--finetune-epochs", "1", "--finetune-steps", "3").code()).isEqualTo(2);
        assertThat(evaluate("eval-bad", "--no-finetune", "--finetune-epochs", "1").code()).isEqualTo(2);
        assertThat(evaluate("eval-bad", "--finetune-epochs", "0").code()).isEqualTo(2);
    }
}
