package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.pipelines.Main;
import dev.d2v.pipelines.ablate.AblationRunner;
import dev.d2v.pipelines.ablate.AblationSettings;
import dev.d2v.pipelines.ablate.Factor;
import dev.d2v.pipelines.ablate.RunState;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * `d2v ablate` end to end on a small labeled PNG folder: two variants of the target layers, one seed, a few steps of
 * the cpu preset, the frozen-feature probes at each checkpoint; then the same command again, which redoes nothing.
 */
class AblateCommandTest {

    @TempDir
    static Path dir;

    static Path images;

    @BeforeAll
    static void folder() throws IOException {
        images = ProbeImages.halves(dir.resolve("halves"));
    }

    private static String[] sweep(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("ablate", "--modality", "image", "--data", images.toString(),
                "--steps", "4", "--checkpoints", "2", "--batch-size", "8", "--threads", "1", "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** Runs the command line with stdout and stderr captured: [exit code, stdout, stderr]. */
    private static Object[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Object[] {code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    /** Every file under the folder with its modification time. */
    private static Map<String, FileTime> files(Path folder) throws IOException {
        Map<String, FileTime> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(folder.relativize(p).toString(), Files.getLastModifiedTime(p));
            }
        }
        return out;
    }

    @Test
    void sweepsEvaluatesEveryCheckpointAndResumesWithoutRedoing() throws IOException {
        Path out = dir.resolve("topk");
        String[] args = sweep(out, "--vary", "image.targets.average_top_k_layers=1,2", "--train-limit", "16",
                "--test-limit", "8");
        Object[] first = run(args);
        assertThat(first[0]).as("exit code; stderr:%n%s", first[2]).isEqualTo(0);
        assertThat((String) first[2]).contains("ablate [1/2] image.targets.average_top_k_layers=1, seed 1: pretraining")
                .contains("ablate [2/2] image.targets.average_top_k_layers=2, seed 1: evaluating step 4 (checkpoint 2 of 2)");

        List<String> runs = List.of("image.targets.average_top_k_layers=1-seed1", "image.targets.average_top_k_layers=2-seed1");
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.filter(Files::isDirectory).map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrderElementsOf(runs);
        }
        for (String r : runs) {
            assertThat(CheckpointStore.list(out.resolve(r).resolve("checkpoints"))).extracting(CheckpointStore.Entry::step)
                    .containsExactly(4L, 2L);
            assertThat(RunState.read(out.resolve(r)).orElseThrow().pretrained()).isTrue();
        }

        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve(AblationRunner.LINES))) {
            lines.add(json.readTree(l));
        }
        assertThat(lines).extracting(n -> n.get("variant").asText() + " seed " + n.get("seed").asLong() + " step "
                        + n.get("step").asLong() + " " + n.get("task").asText() + " " + n.get("protocol").asText())
                .containsExactlyInAnyOrder(
                        "image.targets.average_top_k_layers=1 seed 1 step 2 halves linear",
                        "image.targets.average_top_k_layers=1 seed 1 step 2 halves knn",
                        "image.targets.average_top_k_layers=1 seed 1 step 4 halves linear",
                        "image.targets.average_top_k_layers=1 seed 1 step 4 halves knn",
                        "image.targets.average_top_k_layers=2 seed 1 step 2 halves linear",
                        "image.targets.average_top_k_layers=2 seed 1 step 2 halves knn",
                        "image.targets.average_top_k_layers=2 seed 1 step 4 halves linear",
                        "image.targets.average_top_k_layers=2 seed 1 step 4 halves knn");
        for (JsonNode n : lines) {
            assertThat(n.get("overrides").get("image.targets.average_top_k_layers").asText())
                    .isEqualTo(n.get("variant").asText().substring(n.get("variant").asText().indexOf('=') + 1));
            assertThat(n.get("pretrain_minutes").asDouble()).isPositive();
            assertThat(n.get("accuracy").asDouble()).isBetween(0.0, 1.0);
            assertThat(n.get("baseline_accuracy").asDouble()).isBetween(0.0, 1.0);
            assertThat(n.get("raw_accuracy").asDouble()).isBetween(0.0, 1.0);
        }
        String html = Files.readString(out.resolve(AblationRunner.PAGE));
        assertThat(html).contains("data-name=\"image.targets.average_top_k_layers=1\"")
                .contains("data-name=\"image.targets.average_top_k_layers=2\"").contains("halves / linear probe");
        assertThat((String) first[1]).contains("accuracy (± sd)").contains("image.targets.average_top_k_layers=2");

        // the same command again: every run is done, nothing is trained, evaluated or appended
        Map<String, FileTime> before = files(out);
        String jsonl = Files.readString(out.resolve(AblationRunner.LINES));
        long t0 = System.nanoTime();
        Object[] second = run(args);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(second[0]).as("stderr:%n%s", second[2]).isEqualTo(0);
        assertThat(Files.readString(out.resolve(AblationRunner.LINES))).isEqualTo(jsonl);
        Map<String, FileTime> after = files(out);
        after.remove(AblationRunner.PAGE);
        before.remove(AblationRunner.PAGE);
        assertThat(after).isEqualTo(before);
        assertThat((String) second[2]).contains("ablate [2/2] image.targets.average_top_k_layers=2, seed 1: done earlier")
                .doesNotContain("pretraining").doesNotContain("evaluating");
        assertThat(seconds).isLessThan(10);

        // other settings on the same folders are refused before anything runs
        Object[] other = run(sweep(out, "--vary", "image.targets.average_top_k_layers=1,2", "--seeds", "1", "--limit", "20"));
        assertThat(other[0]).isEqualTo(2);
        assertThat((String) other[2]).contains("holds a run with other settings");
    }

    @Test
    void aTimeBudgetIsSpentInPartsEachEndingWithACheckpoint() throws IOException {
        Path out = dir.resolve("timed");
        Object[] r = run("ablate", "--modality", "image", "--data", images.toString(), "--steps", "1000", "--minutes", "0.001",
                "--checkpoints", "2", "--batch-size", "8", "--threads", "1", "--out", out.toString(), "--test-limit", "8");
        assertThat(r[0]).as("stderr:%n%s", r[2]).isEqualTo(0);
        Path run = out.resolve("default-seed1");
        assertThat(CheckpointStore.list(run.resolve("checkpoints"))).hasSize(2);
        RunState state = RunState.read(run).orElseThrow();
        assertThat(state.chunksDone()).isEqualTo(2);
        assertThat(state.pretrained()).isTrue();
        assertThat((String) r[2]).contains("pretraining part 2 of 2");
        assertThat(Files.readAllLines(out.resolve(AblationRunner.LINES))).hasSize(4); // 2 checkpoints x linear, knn
    }

    @Test
    void aBadVaryKeyFailsBeforeAnyRunStarts() {
        Path out = dir.resolve("bad");
        Object[] r = run(sweep(out, "--vary", "image.targets.average_top_k_layers=1,2", "--vary", "image.targets.topk=3"));
        assertThat(r[0]).isEqualTo(2);
        assertThat((String) r[2]).contains("--vary image.targets.topk=3").contains("no key 'topk'");
        assertThat(out).doesNotExist();

        Object[] fixedAndVaried = run(sweep(out, "--set", "optim.lr=1e-3", "--vary", "optim.lr=1e-3,2e-3"));
        assertThat(fixedAndVaried[0]).isEqualTo(2);
        assertThat((String) fixedAndVaried[2]).contains("--vary optim.lr: the key is fixed by --set optim.lr=1e-3");
        assertThat(out).doesNotExist();
    }

    @Test
    void optionsMapToTheSettings() {
        AblateCommand cmd = new AblateCommand();
        assertThat(Main.commandLine().getSubcommands()).containsKey("ablate");
        new CommandLine(cmd).parseArgs("--modality", "image", "--vary", "optim.lr=1e-3,2e-3", "--vary", "preset=tiny,cpu",
                "--seeds", "3,4", "--steps", "10", "--set", "model.dim=96", "--train-limit", "50");
        AblationSettings s = cmd.settings(PipelineConfig.defaults());
        assertThat(s.data()).isEqualTo("mnist");
        assertThat(s.seeds()).containsExactly(3L, 4L);
        assertThat(s.factors()).extracting(Factor::key).containsExactly("optim.lr", "preset");
        assertThat(s.fixedOverrides()).containsExactly("model.dim=96");
        assertThat(s.out()).isEqualTo(Path.of(".d2v", "ablate", "image-mnist-lr+preset"));
        assertThat(s.checkpoints()).isEqualTo(AblationSettings.DEFAULT_CHECKPOINTS);
        assertThat(s.timeBudget()).isNull();
        assertThat(s.evaluation().tasks()).containsExactly("mnist");
        assertThat(s.evaluation().trainLimit()).isEqualTo(50);
        assertThat(s.evaluation().finetune()).isNull();
        assertThat(s.evaluation().cpuShare()).isEqualTo(1.0);
        assertThat(s.evaluation().nice()).isZero();

        AblateCommand tuned = new AblateCommand();
        new CommandLine(tuned).parseArgs("--modality", "image", "--data", "fashion-mnist", "--finetune", "--minutes", "1.5",
                "--task", "mnist", "--name", "mine");
        AblationSettings t = tuned.settings(PipelineConfig.defaults());
        assertThat(t.seeds()).containsExactly(1L);
        assertThat(t.factors()).isEmpty();
        assertThat(t.evaluation().finetune()).isNotNull();
        assertThat(t.evaluation().tasks()).containsExactly("mnist");
        assertThat(t.timeBudget()).isEqualTo(Duration.ofSeconds(90));
        assertThat(t.out()).isEqualTo(Path.of(".d2v", "ablate", "mine"));
    }
}
