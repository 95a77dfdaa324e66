package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
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

/** `d2v evaluate --checkpoint` on a pretrained checkpoint and a PNG probe folder: the three protocols and their options. */
class EvaluateCommandTest {

    @TempDir
    static Path dir;

    static Path images;
    static Path checkpoint;

    @BeforeAll
    static void checkpointAndProbeFolder() throws IOException {
        images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "2",
                "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        checkpoint = CheckpointStore.list(run.resolve("checkpoints")).get(0).folder();
    }

    record Run(int code, List<JsonNode> lines) {}

    private static Run evaluate(String out, String... extra) throws IOException {
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
