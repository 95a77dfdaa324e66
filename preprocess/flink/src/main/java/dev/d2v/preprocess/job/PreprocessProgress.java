package dev.d2v.preprocess.job;

import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * How far the preprocessing job got through one raw topic: its records (end less start offsets, every partition)
 * and how many of them lie below the committed offsets of the job's consumer group
 * ({@link PreprocessJobConfig#groupId}). The Flink KafkaSource commits those offsets when a checkpoint completes,
 * and a bounded run ends with one, so a finished run leaves them at the end offsets; a run stopped by Ctrl-C leaves
 * them at its last checkpoint, and the next bounded run resumes there. The demo runs the job again whenever a
 * partition is behind (a rerun that only compared batch counts skipped what an interrupted run never reached).
 *
 * @param records          records in the raw topic (end - start offsets, summed over partitions)
 * @param preprocessed     of those, the ones below the group's committed offsets (a partition with no commit: 0)
 * @param partitionsBehind partitions whose committed offset is below their end offset
 */
public record PreprocessProgress(Modality modality, String topic, long records, long preprocessed,
                                 int partitionsBehind) {

    /** Every raw record of the topic has been consumed by the job (an empty topic is complete). */
    public boolean complete() {
        return partitionsBehind == 0;
    }

    /** e.g. "raw image: 1000 records, preprocessed 640; resuming preprocessing". */
    public String describe() {
        String action = complete() ? "nothing left to preprocess"
                : preprocessed == 0 ? "preprocessing" : "resuming preprocessing";
        return "raw " + modality.id() + ": " + records + " records, preprocessed " + preprocessed + "; " + action;
    }

    /** The decision: run the bounded job when any modality's raw topic is not fully consumed. */
    public static boolean needsRun(List<PreprocessProgress> progress) {
        return progress.stream().anyMatch(p -> !p.complete());
    }

    /** The modalities whose raw topics are not fully consumed, in the given order. */
    public static List<Modality> behind(List<PreprocessProgress> progress) {
        return progress.stream().filter(p -> !p.complete()).map(PreprocessProgress::modality).toList();
    }

    /** Reads every modality's progress: raw topics under {@code topicPrefix}, the groups of {@link PreprocessJobConfig#from}. */
    public static List<PreprocessProgress> read(Admin admin, String topicPrefix, List<Modality> modalities) {
        Topics topics = new Topics(topicPrefix);
        List<PreprocessProgress> out = new ArrayList<>();
        for (Modality m : modalities) {
            out.add(read(admin, m, topics.raw(m), PreprocessJobConfig.groupId(topicPrefix, m)));
        }
        return out;
    }

    /** The end offsets of every partition of each modality's raw topic: what a bounded job started now will drain. */
    public static Map<TopicPartition, Long> rawEnds(Admin admin, String topicPrefix, List<Modality> modalities) {
        Topics topics = new Topics(topicPrefix);
        Map<TopicPartition, Long> out = new HashMap<>();
        try {
            for (Modality m : modalities) {
                out.putAll(offsets(admin, topics.raw(m), OffsetSpec.latest()));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the raw end offsets", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the raw end offsets: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Records that a bounded job which FINISHED (drained its input) consumed at least {@code ends} (read before it
     * started; its own stopping offsets are those or later): commits them to the job's group, never moving a commit
     * back. The Flink KafkaSource commits on checkpoint completion, asynchronously; the commit of a bounded job's last
     * checkpoint can be lost when the job closes its consumer right after, which would make a finished run look
     * unfinished. The source is not a group member (it assigns partitions), so the group can be altered.
     */
    public static void markDrained(Admin admin, String topicPrefix, List<Modality> modalities,
                                   Map<TopicPartition, Long> ends) {
        Topics topics = new Topics(topicPrefix);
        try {
            for (Modality m : modalities) {
                String group = PreprocessJobConfig.groupId(topicPrefix, m);
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                Map<TopicPartition, OffsetAndMetadata> update = new HashMap<>();
                ends.forEach((tp, end) -> {
                    OffsetAndMetadata now = committed.get(tp);
                    if (tp.topic().equals(topics.raw(m)) && (now == null || now.offset() < end)) {
                        update.put(tp, new OffsetAndMetadata(end));
                    }
                });
                if (!update.isEmpty()) {
                    admin.alterConsumerGroupOffsets(group, update).all().get();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while recording the preprocessing progress", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot record the preprocessing progress: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /** One raw topic against one consumer group's committed offsets (none committed = nothing consumed). */
    public static PreprocessProgress read(Admin admin, Modality m, String topic, String groupId) {
        try {
            Map<TopicPartition, Long> end = offsets(admin, topic, OffsetSpec.latest());
            Map<TopicPartition, Long> start = offsets(admin, topic, OffsetSpec.earliest());
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
            long records = 0;
            long done = 0;
            int behind = 0;
            for (TopicPartition tp : end.keySet()) {
                long from = start.get(tp);
                long to = end.get(tp);
                OffsetAndMetadata om = committed.get(tp);
                // below the start: records deleted by retention before the job read them; they cannot be redone
                long at = Math.min(to, Math.max(from, om == null ? from : om.offset()));
                records += to - from;
                done += at - from;
                if (at < to) {
                    behind++;
                }
            }
            return new PreprocessProgress(m, topic, records, done, behind);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the preprocessing progress of " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the preprocessing progress of " + topic + " (group " + groupId
                    + "): " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The offset that spec names (latest, earliest) of every partition of topic. */
    private static Map<TopicPartition, Long> offsets(Admin admin, String topic, OffsetSpec spec)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetSpec> query = new HashMap<>();
        for (TopicPartitionInfo p : admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()) {
            query.put(new TopicPartition(topic, p.partition()), spec);
        }
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(query).all().get().forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }
}
