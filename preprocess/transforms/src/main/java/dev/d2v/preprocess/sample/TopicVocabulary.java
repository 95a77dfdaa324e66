package dev.d2v.preprocess.sample;

import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextEncoder;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A text vocabulary built from the raw text topic itself: the committed records from the start up to the
 * end offsets at the time of the call (at most {@code maxRecords}), undecodable ones skipped. For a local
 * run that has no vocabulary file yet; a cluster deployment builds it once and ships the file.
 */
public final class TopicVocabulary {

    private TopicVocabulary() {
    }

    /** Reads the topic's texts (undecodable values skipped) and builds the vocabulary from them. */
    public static Vocabulary build(Properties clientProps, String rawTextTopic, int maxRecords, TextTransformConfig cfg) {
        List<String> texts = readTexts(clientProps, rawTextTopic, maxRecords, cfg.maxBytes());
        if (texts.isEmpty()) {
            throw new IllegalStateException("cannot build a text vocabulary: " + rawTextTopic + " has no readable records"
                    + " (ingest text first, or pass a vocabulary file)");
        }
        try (TextAnalysis analysis = new TextAnalysis(cfg.analyzer())) {
            return Vocabulary.build(texts, analysis, cfg);
        }
    }

    static List<String> readTexts(Properties clientProps, String topic, int maxRecords, long maxBytes) {
        Properties p = new Properties();
        p.putAll(clientProps);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> texts = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (texts.size() < maxRecords && !caughtUp(c, end) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    try {
                        texts.add(TextEncoder.decodeUtf8(r.value(), maxBytes));
                    } catch (BadRecordException e) {
                        // the job dead-letters it; the vocabulary simply does without it
                    }
                }
            }
        }
        return texts.size() > maxRecords ? texts.subList(0, maxRecords) : texts;
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
