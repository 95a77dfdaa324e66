package dev.d2v.pipelines.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.ingest.Ingestor;
import dev.d2v.ingest.RawItem;
import dev.d2v.pipelines.Main;
import dev.d2v.preprocess.corpus.MalformedCorpus;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The malformed-input corpus through the whole pipeline, every stage run as a user runs it ({@code ./d2v preprocess},
 * {@code ./d2v train}, {@code ./d2v evaluate}) against the local broker: every bad input ends on d2v.deadletter with
 * the stage and reason the corpus names, every good sample is trained exactly once, and no stage exits with an error.
 */
class MalformedInputPipelineTest {

    @TempDir
    Path dir;

    @Test
    void everyBadInputIsDeadLetteredWithItsReasonAndEveryGoodSampleTrainedOnce() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        String prefix = "mc" + UUID.randomUUID().toString().substring(0, 8);
        Path cfg = dir.resolve("d2v.yaml");
        Files.writeString(cfg, String.join("\n", "kafka:", "  bootstrap: " + bootstrap, "topics:", "  prefix: " + prefix,
                "  partitions: 1", "data:", "  cacheDir: " + dir.resolve("cache"), "batch:", "  image: 4", "  audio: 4",
                "  text: 4", ""));
        PipelineConfig c = PipelineConfig.load(cfg);
        try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
            admin.ensureTopics(c.topics());
        }
        Topics topics = c.topicNames();

        // ingest: the records a producer can send as they are (malformed keys and headers too), and through the
        // ingestor the one no Kafka record can hold
        List<MalformedCorpus.Raw> corpus = MalformedCorpus.raw();
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, c.topics().maxMessageBytes())) {
            for (MalformedCorpus.Raw r : corpus) {
                if (!r.tooLargeForKafka()) {
                    p.send(new ProducerRecord<>(topics.raw(r.modality()), null, r.key(), r.value(), r.headers())).get();
                }
            }
        }
        List<RawItem> tooLarge = corpus.stream().filter(MalformedCorpus.Raw::tooLargeForKafka)
                .map(r -> new RawItem(r.id(), r.modality(), "text/plain", Optional.empty(), Optional.empty(),
                        "corpus:" + r.name(), r::value)).toList();
        Ingestor.Summary ingested = Ingestor.send(c, tooLarge.stream(), 0, 0, "ingest", s -> {});
        assertThat(ingested.skipped()).hasSize(tooLarge.size());

        // preprocess, bounded: the job must finish, not crash-loop on any record
        assertThat(Main.run("preprocess", "--config", cfg.toString(), "--modality", "all", "--bounded",
                "--checkpoint-interval-ms", "500")).isZero();

        // minibatches the trainer must refuse, between the good ones on the batch topics
        Vocabulary vocabulary = Vocabulary.load(c.data().cachePath().resolve("vocab").resolve("text.vocab"));
        Transforms t = Transforms.defaults();
        List<MalformedCorpus.Batch> batches = MalformedCorpus.minibatches(t.configHash(Modality.IMAGE, null),
                t.configHash(Modality.AUDIO, null), t.configHash(Modality.TEXT, vocabulary), 1_000_000);
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, c.topics().maxMessageBytes())) {
            for (MalformedCorpus.Batch b : batches) {
                p.send(new ProducerRecord<>(topics.batch(b.modality()), null, b.value())).get();
            }
        }

        // train every modality until the topics are drained
        Path run = dir.resolve("run");
        assertThat(Main.run("train", "--config", cfg.toString(), "--modality", "image,audio,text", "--preset", "cpu",
                "--out", run.toString(), "--sample-log", "--idle-stop-seconds", "15", "--threads", "2",
                "--checkpoint-every", "5", "--schedule-steps", "50")).isZero();

        // evaluate the last checkpoint: the evaluator takes what the trainer made
        Path checkpoint = CheckpointStore.newestValid(run.resolve("checkpoints")).checkpoint().orElseThrow().folder();
        Path probe = ProbeImages.halves(dir.resolve("halves"));
        assertThat(Main.run("evaluate", "--checkpoint", checkpoint.toString(), "--task", probe.toString(), "--threads",
                "1", "--out", dir.resolve("eval").toString(), "--no-finetune")).isZero();

        // every good sample exactly once
        List<String> trained = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("trained-samples.jsonl"))) {
            json.readTree(line).get("ids").forEach(id -> trained.add(id.asText()));
        }
        List<String> good = corpus.stream().filter(MalformedCorpus.Raw::good).map(MalformedCorpus.Raw::id).toList();
        assertThat(trained).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(good);

        // every bad input on the dead-letter topic, with the stage (and so the reason) the corpus names
        long bad = corpus.stream().filter(r -> !r.good()).count() + batches.size();
        List<DeadLetter> dead = KafkaTestClients.readAll(bootstrap, topics.deadLetter(), (int) bad, true,
                Duration.ofSeconds(60)).stream().map(DeadLetter::fromConsumerRecord).toList();
        List<String> expected = new ArrayList<>();
        corpus.stream().filter(r -> !r.good()).forEach(r -> expected.add(r.expected()));
        batches.forEach(b -> expected.add(b.expected()));
        assertThat(dead).extracting(DeadLetter::stage).containsExactlyInAnyOrderElementsOf(expected);
        Map<String, String> byKey = new HashMap<>();
        dead.stream().filter(d -> d.key() != null && d.key().length > 0)
                .forEach(d -> byKey.put(new String(d.key(), StandardCharsets.UTF_8), d.stage()));
        for (MalformedCorpus.Raw r : corpus) {
            if (!r.good() && byKey.containsKey(r.id())) {
                assertThat(byKey.get(r.id())).as(r.name()).isEqualTo(r.expected());
            }
        }

        Map<String, Long> byStage = new TreeMap<>();
        dead.forEach(d -> byStage.merge(d.stage(), 1L, Long::sum));
        System.out.printf("malformed-input corpus: %d raw inputs (%d good, %d bad), %d minibatches; trained %d samples"
                        + " once each; %d dead letters:%n", corpus.size(), good.size(), corpus.size() - good.size(),
                batches.size(), trained.size(), dead.size());
        byStage.forEach((stage, n) -> System.out.printf("  %-40s %d%n", stage, n));
    }
}
