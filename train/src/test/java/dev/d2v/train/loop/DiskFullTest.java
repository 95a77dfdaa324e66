package dev.d2v.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints on a disk that fills up: a real tmpfs of a few checkpoints' size (mounted by the test; skipped where
 * the test may not mount, i.e. without root).
 */
class DiskFullTest {

    @TempDir
    Path tmp;

    private static boolean run(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException noSuchCommand) {
            return false;
        }
    }

    /** What a checkpoint folder takes on tmpfs: each file in whole 4 KB pages, and a page for the folder. */
    private static long size(Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            long sum = 4096;
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                sum += (Files.size(f) + 4095) / 4096 * 4096;
            }
            return sum;
        }
    }

    @Test
    void aFullDiskFailsOneCheckpointCleanlyTheNextWorksOnceThereIsRoomAndRetentionNeedsNoSpareCheckpoint()
            throws Exception {
        try (Trainer probe = new Trainer(TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE)), Device.cpu(), 1)) {
            probe.step(SyntheticBatches.image(4, 1, 8, 0));   // the optimizer's moments exist from the first step on
            long one = size(TrainerCheckpoints.save(probe, tmp.resolve("probe"), null,
                    CheckpointManifest.DataPosition.none()).folder());
            Path mount = Files.createDirectories(tmp.resolve("disk"));
            // room for two and a half checkpoints: keepLast 2 fits only if retention makes room before a write
            long bytes = (one * 5 / 2 / 4096 + 1) * 4096;
            assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", mount.toString()),
                    "mounting a tmpfs needs root");
            try {
                check(mount.resolve("checkpoints"), one);
            } finally {
                run("umount", mount.toString());
            }
        }
    }

    private void check(Path root, long one) throws Exception {
        try (Trainer t = new Trainer(TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE)), Device.cpu(), 1)) {
            // keepLast 2 on room for 2.5 checkpoints: a write after which retention prunes would need room for 3
            List<String> log = new ArrayList<>();
            Checkpointer two = new Checkpointer(root, null, 1, null, new RetentionPolicy(2, 0), v -> {});
            loop(t, 4, List.of(two), log);
            assertThat(two.failed()).as("every checkpoint written: %s", log).isZero();
            assertThat(two.count()).isEqualTo(4);
            assertThat(CheckpointStore.list(root)).extracting(CheckpointStore.Entry::step).containsExactlyInAnyOrder(3L, 4L);

            // keepLast 1 from one checkpoint (4): the disk is filled before the checkpoint of step 5, emptied before 6
            CheckpointStore.prune(root, new RetentionPolicy(1, 0));
            Path filler = root.resolveSibling("filler");
            LoopListener disk = (s, loop) -> {
                long step = loop.trainer().stepsDone();
                if (step == 5) {
                    fill(filler, Files.getFileStore(root).getUsableSpace() - one / 2);
                } else if (step == 6) {
                    Files.delete(filler);
                }
            };
            Checkpointer one1 = new Checkpointer(root, null, 1, null, new RetentionPolicy(1, 0), v -> {});
            log.clear();
            loop(t, 8, List.of(disk, one1), log);
            assertThat(t.stepsDone()).isEqualTo(8);
            assertThat(one1.failed()).as("only the checkpoint of step 5 found the disk full: %s", log).isEqualTo(1);
            assertThat(log).anyMatch(l -> l.startsWith("checkpoint at step 5 could NOT be written")
                    && l.contains("No space left on device") && l.contains("training goes on"));
            assertThat(one1.count()).isEqualTo(3);   // 6, 7 and the end of run's 8
        }
        List<CheckpointStore.Entry> kept = CheckpointStore.list(root);
        assertThat(kept).extracting(CheckpointStore.Entry::step).containsExactly(8L);
        CheckpointStore.verify(kept.get(0).folder());
        try (Stream<Path> left = Files.list(root)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no partial folder left").allMatch(n -> n.startsWith("step-"));
        }
    }

    private static void loop(Trainer t, long target, List<LoopListener> listeners, List<String> log) throws Exception {
        new TrainingLoop(t, new EndlessImages(), Map.of(), new LoopSettings(Map.of(Modality.IMAGE, 1), Duration.ZERO, target,
                null, null), listeners, log::add).run(() -> false);
    }

    /** Writes real blocks (tmpfs does not reserve a sparse file's length). */
    private static void fill(Path file, long bytes) throws IOException {
        byte[] block = new byte[4096];
        try (var out = Files.newOutputStream(file)) {
            for (long written = 0; written + block.length <= bytes; written += block.length) {
                out.write(block);
            }
        }
    }
}
