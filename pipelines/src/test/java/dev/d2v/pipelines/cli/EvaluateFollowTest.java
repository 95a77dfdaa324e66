package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.EvalEvent;
import dev.d2v.pipelines.Main;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.run.TrainerCheckpoints;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.Comparator;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * `d2v evaluate --follow` end to end on the project's real local broker: a checkpoint announced on d2v.checkpoints
 * whose student.safetensors was damaged afterwards (one flipped byte) is refused with the SHA-256 reason, printed and
 * recorded in the follower state, and the follower goes on to evaluate the next, valid checkpoint: results file and
 * d2v.eval events.
 */
class EvaluateFollowTest {

    @TempDir
    Path dir;

    @Test
    void refusesACorruptCheckpointAndGoesOnToTheNext() throws Exception {
        Path images = ProbeImages.halves(dir.resolve("halves"));
        Path run = dir.resolve("run");
        assertThat(Main.run("pretrain", "--modality", "image", "--data", images.toString(), "--steps", "2",
                "--checkpoint-every", "1", "--batch-size", "8", "--threads", "1", "--out", run.toString())).isZero();
        List<CheckpointStore.Verified> written = CheckpointStore.list(run.resolve("checkpoints")).stream()
                .sorted(Comparator.comparingLong(CheckpointStore.Entry::step)) // list() gives newest first
                .map(c -> verify(c.folder())).toList();
        assertThat(written).extracting(v -> v.manifest().step()).containsExactly(1L, 2L);
        // the trainer's own events, taken while both were intact; then step 1 is damaged on disk
        CheckpointEvent corrupt = TrainerCheckpoints.event(written.get(0));
        CheckpointEvent valid = TrainerCheckpoints.event(written.get(1));
        // the valid checkpoint copied outside the evaluator's checkpoint root, announced under step 3
        Path elsewhere = Files.createTempDirectory("d2v-outside-root").resolve("step-000000003");
        copyTree(written.get(1).folder(), elsewhere);
        CheckpointEvent outside = new CheckpointEvent(valid.checkpointId() + "-copy", 3, valid.samplesSeen(),
                valid.offsets(), elsewhere.toString(), valid.configHash(), valid.createdAt());
        assertThat(corrupt.checkpointId()).as("the id holds the manifest's hash").matches("step-000000001-[0-9a-f]{16}");
        Path student = written.get(0).folder().resolve("student" + CheckpointStore.GROUP_SUFFIX);
        byte[] bytes = Files.readAllBytes(student);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(student, bytes);

        String prefix = "ef" + UUID.randomUUID().toString().substring(0, 8);
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, "kafka:\n  bootstrap: " + SharedLocalKafka.bootstrap() + "\ntopics:\n  prefix: " + prefix
                + "\n  partitions: 1\n");
        PipelineConfig c = PipelineConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(SharedLocalKafka.bootstrap(), 1 << 20)) {
            for (CheckpointEvent e : List.of(corrupt, valid, outside)) {
                p.send(new ProducerRecord<>(topics.checkpoints(), e.checkpointId().getBytes(StandardCharsets.UTF_8),
                        e.toJson())).get();
            }
        }

        Path out = dir.resolve("eval");
        String[] args = {"evaluate", "--config", cfg.toString(), "--follow", "--policy", "each", "--group",
                "eval-" + prefix, "--task", images.toString(), "--no-finetune", "--threads", "1", "--nice", "0",
                "--out", out.toString(), "--max-checkpoints", "3", "--idle-stop-seconds", "90", "--checkpoint-root",
                dir.toString()};
        PrintStream stderr = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int code;
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            code = Main.run(args);
        } finally {
            System.setErr(stderr);
        }
        String err = buffer.toString(StandardCharsets.UTF_8);
        stderr.print(err);
        assertThat(code).isZero();

        // refused with the reason printed, and the follower went on to the valid one, then stopped by the option
        List<String> lines = Arrays.asList(err.split("\n"));
        int refused = indexOf(lines, "checkpoint " + corrupt.checkpointId() + " (step 1): REJECTED");
        int evaluated = indexOf(lines, "checkpoint " + valid.checkpointId() + " (step 2): EVALUATED");
        int outsideRoot = indexOf(lines, "checkpoint " + outside.checkpointId() + " (step 3): REJECTED");
        assertThat(outsideRoot).as("refusal of the checkpoint outside the root in:%n%s", err).isGreaterThan(evaluated);
        assertThat(lines.get(outsideRoot)).contains("outside the checkpoint root");
        assertThat(refused).as("refusal line in:%n%s", err).isNotNegative();
        assertThat(evaluated).as("evaluation line in:%n%s", err).isGreaterThan(refused);
        assertThat(lines.get(refused)).contains("student.safetensors").contains("SHA-256 mismatch");
        assertThat(err).contains("stopping: 3 checkpoint(s) evaluated or refused (--max-checkpoints)");

        // the state file records both: the reason for the refusal, done for the other
        JsonNode state = new ObjectMapper().readTree(out.resolve("follower-state.json").toFile()).get("checkpoints");
        assertThat(state.get(corrupt.checkpointId()).get("status").asText()).isEqualTo("rejected");
        assertThat(state.get(corrupt.checkpointId()).get("reason").asText()).contains("SHA-256 mismatch");
        assertThat(state.get(valid.checkpointId()).get("status").asText()).isEqualTo("done");
        assertThat(state.get(outside.checkpointId()).get("status").asText()).isEqualTo("rejected");

        // results file of the valid checkpoint only, with the share it ran under (the --follow default)
        List<Path> files;
        try (var list = Files.list(out.resolve("results"))) {
            files = list.toList();
        }
        assertThat(files).singleElement().extracting(f -> f.getFileName().toString()).asString().startsWith("step-000000002");
        JsonNode saved = new ObjectMapper().readTree(files.get(0).toFile());
        assertThat(saved.get("step").asLong()).isEqualTo(2);
        assertThat(saved.get("results")).hasSize(2);
        for (JsonNode r : saved.get("results")) {
            assertThat(r.get("extras").get("cpu_share").asDouble()).isEqualTo(0.5);
        }

        // published to d2v.eval: linear and k-NN of step 2, nothing of step 1
        List<EvalEvent> events = KafkaTestClients.readAll(SharedLocalKafka.bootstrap(), topics.eval(), 2, true,
                Duration.ofSeconds(30)).stream().map(r -> EvalEvent.fromJson(r.value())).toList();
        assertThat(events).extracting(e -> e.result().step()).containsExactly(2L, 2L);
        assertThat(events).extracting(e -> e.result().protocol().id()).containsExactlyInAnyOrder("linear", "knn");

        // a later run told to follow until step 2 finds it done in its state and stops at once, not after the idle wait
        long t0 = System.nanoTime();
        buffer.reset();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("evaluate", "--config", cfg.toString(), "--follow", "--group", "eval-" + prefix, "--task",
                    images.toString(), "--no-finetune", "--threads", "1", "--nice", "0", "--out", out.toString(),
                    "--until-step", "2", "--idle-stop-seconds", "90", "--checkpoint-root", dir.toString());
        } finally {
            System.setErr(stderr);
        }
        assertThat(code).isZero();
        assertThat(buffer.toString(StandardCharsets.UTF_8)).contains("stopping: a checkpoint at step 2 or later was evaluated");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(60);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    private static CheckpointStore.Verified verify(Path folder) {
        try {
            return CheckpointStore.verify(folder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
