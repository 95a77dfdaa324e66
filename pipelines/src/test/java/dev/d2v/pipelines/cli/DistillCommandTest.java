package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.export.ExportPackage;
import dev.d2v.infra.Modality;
import dev.d2v.pipelines.CliRun;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.run.TrainerCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `d2v distill`: a tiny student from a cpu-preset image teacher; it learns, resumes, and evaluates as a checkpoint. */
class DistillCommandTest {

    @TempDir
    static Path dir;

    static Path images;
    static Path teacher;

    @BeforeAll
    static void teacherCheckpoint() throws IOException {
        images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("teacher");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "2",
                "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        teacher = CheckpointStore.list(run.resolve("checkpoints")).get(0).folder();
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            lines.add(new ObjectMapper().readTree(l));
        }
        return lines;
    }

    @Test
    void theStudentLearnsTheTeachersFeaturesResumesEvaluatesAndExports() throws Exception {
        Path out = dir.resolve("student");
        String[] common = {"distill", "--teacher", teacher.toString(), "--modality", "image", "--data", images.toString(),
                "--batch-size", "16", "--threads", "1", "--checkpoint-every", "10", "--out", out.toString()};
        List<String> args = new ArrayList<>(List.of(common));
        args.addAll(List.of("--steps", "20"));
        assertThat(Main.run(args.toArray(String[]::new))).isZero();
        List<JsonNode> first = metrics(out);
        assertThat(first).hasSize(20);
        double early = (first.get(0).get("loss").asDouble() + first.get(1).get("loss").asDouble()) / 2;
        double late = (first.get(18).get("loss").asDouble() + first.get(19).get("loss").asDouble()) / 2;
        assertThat(late).as("the student moves towards the teacher").isLessThan(0.8 * early);

        args.set(args.size() - 1, "24");
        assertThat(Main.run(args.toArray(String[]::new))).isZero();
        List<JsonNode> all = metrics(out);
        assertThat(all).extracting(n -> n.get("step").asLong()).containsExactlyElementsOf(
                LongStream.range(0, 24).boxed().toList());

        Path checkpoint = CheckpointStore.list(out.resolve("checkpoints")).get(0).folder();
        JsonNode run = CheckpointStore.verify(checkpoint).manifest().config().path(TrainerCheckpoints.RUN);
        assertThat(run.path("mode").asText()).isEqualTo("distill");
        assertThat(run.path("teacher").asText()).isEqualTo(teacher.toAbsolutePath().normalize().toString());
        assertThat(CheckpointStore.verify(checkpoint).manifest().config().path("model").path("model").path("dim").asInt())
                .isLessThan(192);
        assertThat(Main.run("evaluate", "--checkpoint", checkpoint.toString(), "--task", images.toString(), "--no-finetune",
                "--threads", "1", "--out", dir.resolve("eval").toString())).isZero();
        assertThat(Main.run("export", "--checkpoint", checkpoint.toString(), "--out", dir.resolve("export").toString()))
                .isZero();
        assertThat(ExportPackage.load(dir.resolve("export")).model(Modality.IMAGE)).isRegularFile();

        CliRun bench = CliRun.of("bench", "distill", "--teacher", teacher.toString(), "--student", checkpoint.toString(),
                "--task", images.toString(), "--rounds", "2", "--batches", "1,4");
        assertThat(bench.code()).as(bench.err()).isZero();
        List<JsonNode> figures = new ArrayList<>();
        for (String line : bench.out().strip().split("\n")) {
            figures.add(new ObjectMapper().readTree(line));
        }
        assertThat(figures).extracting(l -> l.get("name").asText() + l.path("batch").asText()).containsExactly(
                "student_parameter_ratio", "student_onnx_size_ratio", "student_vs_teacher_speedup_djl1",
                "student_vs_teacher_speedup_onnx1", "student_vs_teacher_speedup_djl4", "student_vs_teacher_speedup_onnx4");
        assertThat(figures.get(0).get("value").asDouble()).as("half the width and depth").isBetween(0.1, 0.3);
        assertThat(figures.get(0).get("student_dim").asInt()).isEqualTo(figures.get(0).get("teacher_dim").asInt() / 2);
        assertThat(figures.get(1).get("value").asDouble()).isBetween(0.05, 0.3);
        assertThat(figures.subList(2, 6)).allSatisfy(l -> assertThat(l.get("value").asDouble()).isPositive());
    }

    @Test
    void whatAUserCanFixExitsWith2() {
        assertThat(Main.run("distill", "--teacher", dir.resolve("nowhere").toString(), "--modality", "image")).isEqualTo(2);
        assertThat(Main.run("distill", "--teacher", teacher.toString(), "--modality", "image", "--preset", "huge"))
                .isEqualTo(2);
        assertThat(Main.run("distill", "--teacher", teacher.toString(), "--modality", "text", "--data", images.toString(),
                "--out", dir.resolve("text").toString())).isEqualTo(2);
    }
}
