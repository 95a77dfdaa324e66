package dev.d2v.evaluate;

import dev.d2v.evaluate.finetune.FineTune;
import dev.d2v.evaluate.follow.FollowPolicy;
import dev.d2v.evaluate.promote.Promoter;
import dev.d2v.infra.Topics;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * What an {@link EvaluationRunner} does, as `d2v evaluate` and the demo set it. The checks are in the compact
 * constructors; their messages name the command line's options, since that is where a wrong value comes from.
 *
 * @param tasks      probe tasks (dataset names or folders); empty = the shipped tasks of each trained modality
 * @param trainLimit at most this many training records per task (0 or less = all)
 * @param testLimit  at most this many test records per task (0 or less = all)
 * @param out        results, feature cache and report; null = {@code <run>/eval} beside the checkpoints folder of
 *                   the checkpoint evaluated, or {@link #FOLLOW_OUT} when following
 * @param publish    whether results go to d2v.eval
 * @param json       results printed as one JSON object per line instead of the table
 * @param finetune   the fine-tuning protocol's budget; null = frozen-feature protocols only
 * @param readout    the encoder outputs that the linear probe reads (the k-NN reads the last block's)
 * @param cpuShare   fraction of the machine's cores the evaluator may use, in (0, 1]
 * @param nice       scheduling priority to lower the process to, 0..19; 0 = leave it. Only a process of its own may
 *                   be reniced: an in-process caller (the demo, a test) passes 0, or the whole JVM slows down
 * @param follow     when following d2v.checkpoints: the policy, consumer group and stop conditions
 * @param kafka      Kafka client properties (bootstrap.servers and security) for d2v.checkpoints and d2v.eval
 * @param topics     the topic names
 * @param promotion  keep the best checkpoint per modality by a metric, announce it on d2v.promotions (when
 *                   publishing) and export it as the current package; null = no promotion
 */
public record EvaluationSettings(List<String> tasks, int trainLimit, int testLimit, Path out, boolean publish,
                                 boolean json, FineTune.Config finetune, Readout readout, double cpuShare, int nice,
                                 Follow follow, Properties kafka, Topics topics, Promotion promotion) {

    /**
     * The CPU share when following a trainer: half the machine keeps evaluations timely (a few minutes per checkpoint
     * with the newest policy) while the trainer keeps the other half; on 2 cores that is one evaluator thread and no
     * duty cycle. A one-off evaluation has the machine to itself (1).
     */
    public static final double FOLLOW_CPU_SHARE = 0.5;

    /**
     * Nice 10 beside a trainer at 0: the trainer wins a contended core by a wide margin (CFS weight 1024 against 110),
     * and the evaluator still gets the idle cycles.
     */
    public static final int DEFAULT_NICE = 10;

    /** Where a follower keeps its results and state without {@link #out}, relative to the working directory. */
    public static final Path FOLLOW_OUT = Path.of(".d2v", "eval");

    public EvaluationSettings {
        tasks = List.copyOf(tasks);
        if (!(cpuShare > 0 && cpuShare <= 1)) {
            throw new IllegalArgumentException("--cpu-share must be in (0, 1], got " + cpuShare);
        }
        if (nice < 0 || nice > 19) {
            throw new IllegalArgumentException("--nice must be in 0..19, got " + nice);
        }
        Objects.requireNonNull(readout, "readout");
        Objects.requireNonNull(follow, "follow");
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(topics, "topics");
    }

    /**
     * Following d2v.checkpoints.
     *
     * @param policy           evaluate each checkpoint, or only the newest when behind
     * @param group            the consumer group
     * @param maxCheckpoints   stop after the poll in which this many checkpoints were evaluated or refused (0 = no limit)
     * @param untilStep        stop once a checkpoint at this step or later was evaluated or refused, also by an earlier
     *                         run of the same follower; null = no such stop
     * @param idleStopSeconds  stop when no checkpoint event arrived for this long (0 = never)
     * @param checkpointRoot   a checkpoint event's location must lie under this folder, or the checkpoint is refused:
     *                         an event is only a message on a topic, and names any path; null = the working directory
     */
    /**
     * What the evaluator promotes ({@link Promoter.Policy}) and how a promoted checkpoint is exported (the exporter may
     * be null when the policy has no export root).
     */
    public record Promotion(Promoter.Policy policy, Promoter.Exporter exporter) {
        public Promotion {
            Objects.requireNonNull(policy, "policy");
        }
    }

    public record Follow(FollowPolicy policy, String group, int maxCheckpoints, Long untilStep, int idleStopSeconds,
                         Path checkpointRoot) {

        public Follow {
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(group, "group");
            checkpointRoot = (checkpointRoot == null ? Path.of("") : checkpointRoot).toAbsolutePath().normalize();
            if (maxCheckpoints < 0 || idleStopSeconds < 0) {
                throw new IllegalArgumentException("--max-checkpoints and --idle-stop-seconds must be >= 0 (0 = no limit)");
            }
        }

        /**
         * The checkpoint folder an event names, refused unless it lies under {@link #checkpointRoot} once links and
         * ".." are resolved.
         */
        public Path checkpointFolder(String location) throws IOException {
            Path folder = Path.of(location).toAbsolutePath().normalize();
            Path real = Files.exists(folder) ? folder.toRealPath() : folder;
            Path root = Files.exists(checkpointRoot) ? checkpointRoot.toRealPath() : checkpointRoot;
            if (!real.startsWith(root)) {
                throw new IOException("the checkpoint location " + location + " is outside the checkpoint root " + root
                        + " (--checkpoint-root): refused");
            }
            return real;
        }

        /** The command line's defaults: the newest checkpoint when behind, group d2v-evaluator, no stop condition. */
        public static Follow defaults() {
            return new Follow(FollowPolicy.NEWEST, "d2v-evaluator", 0, null, 0, null);
        }
    }
}
