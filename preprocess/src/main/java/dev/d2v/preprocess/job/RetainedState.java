package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The retained Flink checkpoints of one local preprocessing job ({@code ./d2v preprocess} on a MiniCluster):
 * {@code <root>/flink/<topic prefix>-<modalities>/checkpoints/<job id>/chk-N/_metadata}, plus a {@code mode} file
 * saying whether the run that wrote them was bounded. A cancelled run (Ctrl-C, the demo stopping) leaves its last
 * completed checkpoint here (retention RETAIN_ON_CANCELLATION); the next run restores it, so the samples that sat
 * in a batcher's pending batch, past the committed offsets, are not lost. A run that finishes leaves nothing to
 * restore: Flink discards a finished job's checkpoints, and {@link #delete} removes the folder as well, because a
 * restored bounded Kafka source keeps the stopping offsets of the run that wrote it.
 *
 * @param dir the job's state folder
 */
public record RetainedState(Path dir) {

    private static final String MODE_FILE = "mode";

    /** The state folder of the job over {@code modalities} on topics {@code topicPrefix}, under {@code root}. */
    public static RetainedState of(Path root, String topicPrefix, List<Modality> modalities) {
        String which = modalities.size() == Modality.values().length ? "all"
                : modalities.stream().map(Modality::id).collect(Collectors.joining("+"));
        return new RetainedState(root.resolve("flink").resolve(topicPrefix + "-" + which));
    }

    /** Where the job writes its checkpoints ({@code execution.checkpointing.dir}). */
    public Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    /** A retained checkpoint to restore: its chk-N folder and whether the run that wrote it was bounded. */
    public record Checkpoint(Path path, boolean bounded) {
    }

    /**
     * The newest complete checkpoint (a chk-N folder whose _metadata exists; a checkpoint cut off while being
     * written has none), newest by the metadata's time, then by N. Empty when there is none.
     */
    public Optional<Checkpoint> newest() {
        Path root = checkpoints();
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> jobs = Files.list(root)) {
            return jobs.filter(Files::isDirectory)
                    .flatMap(RetainedState::completeCheckpoints)
                    .max(Comparator.comparing(RetainedState::metadataTime).thenComparing(RetainedState::number))
                    .map(p -> new Checkpoint(p, bounded()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the retained checkpoints in " + root, e);
        }
    }

    /** Records the mode of the run about to start (read back by {@link #newest}). */
    public void markMode(boolean bounded) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(MODE_FILE), bounded ? "bounded" : "unbounded", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(MODE_FILE), e);
        }
    }

    /**
     * Removes the job folders other than the one holding {@code keep}: each restore starts a new job id, and the
     * older folders are never read again (the restore does not claim the checkpoint, so Flink leaves it alone).
     */
    public void pruneExcept(Path keep) {
        try (Stream<Path> jobs = Files.list(checkpoints())) {
            for (Path job : jobs.filter(j -> !keep.startsWith(j)).toList()) {
                deleteTree(job);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prune " + checkpoints(), e);
        }
    }

    /** Removes the whole state folder (after a finished run, or {@code --fresh}). */
    public void delete() {
        deleteTree(dir);
    }

    private boolean bounded() {
        Path f = dir.resolve(MODE_FILE);
        try {
            // no mode file: written by a version that ran bounded only (the demo)
            return !Files.isRegularFile(f) || Files.readString(f, StandardCharsets.UTF_8).trim().equals("bounded");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    private static Stream<Path> completeCheckpoints(Path job) {
        try (Stream<Path> s = Files.list(job)) {
            return s.filter(p -> p.getFileName().toString().matches("chk-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve("_metadata"))).toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + job, e);
        }
    }

    private static long metadataTime(Path chk) {
        try {
            return Files.getLastModifiedTime(chk.resolve("_metadata")).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE; // discarded meanwhile: the oldest
        }
    }

    private static long number(Path chk) {
        return Long.parseLong(chk.getFileName().toString().substring("chk-".length()));
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
