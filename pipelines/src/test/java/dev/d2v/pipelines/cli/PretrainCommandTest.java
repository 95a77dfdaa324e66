package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.schedule.Schedules;
import dev.d2v.train.step.ReplayedLosses;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `d2v pretrain` on a folder of real PNG files: metrics, checkpoints, encoder export, and an exact resume. */
class PretrainCommandTest {

    @TempDir
    static Path dir;

    static Path images;

    @BeforeAll
    static void pngFolder() throws IOException {
        images = dir.resolve("shapes");
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 60; i++) {
            String label = i % 2 == 0 ? "square" : "bar";
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            int x0 = r.nextInt(12);
            int y0 = r.nextInt(12);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = label.equals("square") ? x >= x0 && x < x0 + 12 && y >= y0 && y < y0 + 12
                            : x >= x0 && x < x0 + 4;
                    img.getRaster().setSample(x, y, 0, on ? 220 + r.nextInt(30) : r.nextInt(30));
                }
            }
            Path f = images.resolve(i < 40 ? "train" : "test").resolve(label).resolve(i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        Files.writeString(images.resolve("train").resolve("bar").resolve("broken.png"), "not a png");
    }

    private static int pretrain(Path out, int steps) {
        return Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", Integer.toString(steps),
                "--batch-size", "8", "--schedule-steps", "6", "--checkpoint-every", "2", "--threads", "1", "--out", out.toString());
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            lines.add(json.readTree(l));
        }
        return lines;
    }

    private static Map<Long, Double> losses(List<JsonNode> lines) {
        Map<Long, Double> losses = new TreeMap<>();
        lines.forEach(n -> losses.put(n.get("step").asLong(), n.get("loss").asDouble()));
        return losses;
    }

    @Test
    void trainsCheckpointsExportsAndResumesExactly() throws Exception {
        Path straight = dir.resolve("straight");
        assertThat(pretrain(straight, 5)).isZero();
        List<JsonNode> a = metrics(straight);
        assertThat(a).hasSize(5);
        assertThat(a.get(4).get("step").asLong()).isEqualTo(4);
        assertThat(a).allMatch(n -> Double.isFinite(n.get("loss").asDouble()) && n.get("batch").asInt() == 8);
        assertThat(CheckpointStore.list(straight.resolve("checkpoints"))).extracting(CheckpointStore.Entry::step)
                .containsExactly(5L, 4L, 2L);
        assertThat(straight.resolve("encoder").resolve("encoder.safetensors")).isRegularFile();

        ReplayedLosses.assertSameOnceMore(attempt -> {
            Path unbroken = attempt == 1 ? straight : dir.resolve("straight-" + attempt);
            if (attempt > 1) {
                assertThat(pretrain(unbroken, 5)).isZero();
            }
            Path stopped = dir.resolve("stopped-" + attempt);
            assertThat(pretrain(stopped, 3)).isZero();
            assertThat(pretrain(stopped, 5)).isZero();      // resumes from step 3, data position included
            List<JsonNode> b = metrics(stopped);
            assertThat(b).extracting(n -> n.get("step").asLong()).containsExactly(0L, 1L, 2L, 3L, 4L);
            return new ReplayedLosses.Replay(losses(metrics(unbroken)), losses(b));
        });

        // the checkpoint alone rebuilds the encoder; probes on the labeled folder, against a random init
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("evaluate", "--checkpoint", straight.resolve("checkpoints").resolve("step-000000005").toString(),
                    "--task", images.toString(), "--json", "--threads", "1");
        } finally {
            System.setOut(old);
        }
        assertThat(code).isZero();
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> results = new ArrayList<>();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("{")) {
                results.add(json.readTree(line));
            }
        }
        assertThat(results).extracting(n -> n.get("protocol").asText()).containsExactlyInAnyOrder("linear", "knn", "finetune");
        for (JsonNode r : results) {
            assertThat(r.get("step").asLong()).isEqualTo(5);
            assertThat(r.get("task").asText()).isEqualTo("shapes");
            assertThat(r.get("baseline_accuracy").asDouble()).isBetween(0.0, 1.0);
        }
        // squares against bars: a linear probe on any sensible features separates them
        assertThat(results.stream().filter(n -> n.get("protocol").asText().equals("linear")).findFirst().orElseThrow()
                .get("accuracy").asDouble()).isGreaterThan(0.8);
        assertThat(straight.resolve("eval").resolve("report.html")).isRegularFile();
    }

    @Test
    void minutesAloneFitTheSchedulesToTheBudgetAndAResumeKeepsThem() throws IOException {
        Path out = dir.resolve("timed");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--minutes", "0.15",
                "--batch-size", "8", "--threads", "1", "--set", "transforms.image.flipProbability=0.25",
                "--out", out.toString())).isZero();
        List<JsonNode> lines = metrics(out);
        Data2VecConfig first = TrainerCheckpoints.modelConfig(newest(out).manifest());
        assertThat(newest(out).manifest().config().at("/run/transforms/image/flipProbability").asDouble(-1))
                .as("--set transforms.image.flipProbability=0.25 reaches the run's transforms").isEqualTo(0.25);
        long preset = Data2VecConfig.cpu().optim().totalSteps();
        if (lines.size() > 20) {   // a loaded machine may not get there in 9 s (ScheduleFitTest covers the fit itself)
            assertThat(first.optim().totalSteps()).as("fitted schedule length").isNotEqualTo(preset).isGreaterThan(20);
            for (JsonNode n : lines) {
                long step = n.get("step").asLong();
                Data2VecConfig in = step < 20 ? Data2VecConfig.cpu() : first;
                double expected = Schedules.learningRate(in.optim(), step) * in.image().lrFactor(in.optim());
                assertThat(n.get("lr").asDouble()).as("lr at step %d", step).isCloseTo(expected, within(1e-12));
            }
        }

        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--minutes", "0.05",
                "--batch-size", "8", "--threads", "1", "--set", "transforms.image.flipProbability=0.25",
                "--out", out.toString())).isZero();
        CheckpointStore.Verified resumed = newest(out);
        assertThat(resumed.manifest().step()).isGreaterThan(lines.size());
        assertThat(TrainerCheckpoints.modelConfig(resumed.manifest()).optim()).as("a resumed run keeps its schedules")
                .isEqualTo(first.optim());
    }

    private static CheckpointStore.Verified newest(Path run) throws IOException {
        return CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint().orElseThrow();
    }

    /**
     * --init-from: a new run's trunk is the source checkpoint's at step 0 (its first step's loss differs from a run
     * from scratch), the run info names the source, and a resumed run keeps its own trunk.
     */
    @Test
    void initFromStartsTheTrunkFromAnotherCheckpoint() throws IOException {
        Path source = dir.resolve("source");
        assertThat(pretrain(source, 3)).isZero();
        Path sourceCheckpoint = CheckpointStore.list(source.resolve("checkpoints")).get(0).folder();
        Path scratch = dir.resolve("scratch");
        Path transfer = dir.resolve("transfer");
        assertThat(pretrain(scratch, 1)).isZero();
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "1",
                "--batch-size", "8", "--schedule-steps", "6", "--threads", "1", "--init-from", sourceCheckpoint.toString(),
                "--out", transfer.toString())).isZero();
        assertThat(metrics(transfer).get(0).get("loss").asDouble()).isNotEqualTo(metrics(scratch).get(0).get("loss").asDouble());
        Path made = CheckpointStore.list(transfer.resolve("checkpoints")).get(0).folder();
        assertThat(CheckpointStore.verify(made).manifest().config().path(TrainerCheckpoints.RUN).path("init_from").asText())
                .isEqualTo(sourceCheckpoint.toAbsolutePath().normalize().toString());
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "1",
                "--init-from", dir.resolve("nowhere").toString(), "--out", dir.resolve("bad").toString())).isEqualTo(2);
    }

    @Test
    void modelOverridesAreCheckedBeforeAnyDataIsRead() {
        assertThat(Main.run("pretrain", "--modality", "image", "--data", "no-such-dataset", "--set", "model.width=192"))
                .isEqualTo(2);
        assertThat(Main.commandLine().getSubcommands().get("pretrain").getUsageMessage()).contains("--set");
        assertThat(Main.commandLine().getSubcommands().get("train").getUsageMessage()).contains("--set");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", "no-such-dataset", "--set",
                "transforms.image.flip=0")).as("a transforms key that does not exist").isEqualTo(2);
        assertThat(Main.run("train", "--modality", "image", "--set", "transforms.image.flipProbability=0"))
                .as("train's transforms must be the preprocess job's: the configuration's, not --set").isEqualTo(2);
    }
}
