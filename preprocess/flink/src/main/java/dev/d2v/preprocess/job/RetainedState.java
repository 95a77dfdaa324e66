package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;

/**
 * The retained Flink checkpoints of one local preprocessing job ({@code ./d2v preprocess} on a MiniCluster):
 * {@code <root>/<topic prefix>-<modalities>/checkpoints/<job id>/chk-N/_metadata}, plus a {@code run.properties} file
 * saying whether the run that wrote them was bounded and which Kafka cluster it read. A cancelled run (Ctrl-C, the
 * demo stopping) leaves its last completed checkpoint here (retention RETAIN_ON_CANCELLATION); the next run restores
 * it, so the samples that sat in a batcher's pending batch, past the committed offsets, are not lost. A run that
 * finishes leaves nothing to restore: Flink discards a finished job's checkpoints, and {@link #delete} removes the
 * folder as well, because a restored bounded Kafka source keeps the stopping offsets of the run that wrote it.
 *
 * @param dir the job's state folder
 */
public record RetainedState(Path dir) {

    private static final String RUN_FILE = "run.properties";
    private static final String END = "end.";

    /**
     * The state folder of the job over {@code modalities} on topics {@code topicPrefix}, under {@code root}
     * ({@code ./d2v preprocess}: {@code <data.cacheDir>/flink} or {@code --state-dir}).
     */
    public static RetainedState of(Path root, String topicPrefix, List<Modality> modalities) {
        String which = modalities.size() == Modality.values().length ? "all"
                : modalities.stream().map(Modality::id).collect(Collectors.joining("+"));
        return new RetainedState(root.resolve(topicPrefix + "-" + which));
    }

    /** Where the job writes its checkpoints ({@code execution.checkpointing.dir}). */
    public Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    /**
     * A retained checkpoint to restore.
     *
     * @param path      its chk-N folder
     * @param bounded   whether the run that wrote it was bounded (its Kafka source splits carry that run's stopping
     *                  offsets, or none)
     * @param clusterId the Kafka cluster that run read ("" when not recorded); its offsets mean nothing elsewhere
     * @param ends      a bounded run's raw end offsets at its start, where its source stops (empty if unbounded)
     */
    public record Checkpoint(Path path, boolean bounded, String clusterId, Map<TopicPartition, Long> ends) {
        public Checkpoint {
            ends = Map.copyOf(ends);
        }
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
                    .map(p -> checkpoint(p, run()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the retained checkpoints in " + root, e);
        }
    }

    /**
     * Records the run about to start (read back by {@link #newest}): bounded or not, the Kafka cluster, and for a
     * bounded run the raw end offsets at its start.
     */
    public void markRun(boolean bounded, String clusterId, Map<TopicPartition, Long> ends) {
        Properties p = new Properties();
        p.setProperty("mode", bounded ? "bounded" : "unbounded");
        p.setProperty("cluster", clusterId == null ? "" : clusterId);
        ends.forEach((tp, end) -> p.setProperty(END + tp.topic() + "@" + tp.partition(), Long.toString(end)));
        try {
            Files.createDirectories(dir);
            try (Writer w = Files.newBufferedWriter(dir.resolve(RUN_FILE), StandardCharsets.UTF_8)) {
                p.store(w, "the local preprocessing run that writes the checkpoints beside this file");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(RUN_FILE), e);
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

    private static Checkpoint checkpoint(Path chk, Properties run) {
        Map<TopicPartition, Long> ends = new HashMap<>();
        for (String k : run.stringPropertyNames()) {
            if (k.startsWith(END)) {
                int at = k.lastIndexOf('@');
                ends.put(new TopicPartition(k.substring(END.length(), at), Integer.parseInt(k.substring(at + 1))),
                        Long.parseLong(run.getProperty(k)));
            }
        }
        return new Checkpoint(chk, !"unbounded".equals(run.getProperty("mode")), run.getProperty("cluster", ""), ends);
    }

    /** The run file; empty when missing (then {@link #newest} takes the run as bounded, the demo's mode). */
    private Properties run() {
        Properties p = new Properties();
        Path f = dir.resolve(RUN_FILE);
        if (Files.isRegularFile(f)) {
            try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        }
        return p;
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
