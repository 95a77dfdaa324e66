package dev.d2v.train.stream;

import static dev.d2v.train.stream.StreamFixtures.CODEC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.SharedLocalKafka;
import dev.d2v.infra.wire.CheckpointEvent;
import dev.d2v.infra.wire.DeadLetter;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.WireFormatException;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.RetentionPolicy;
import dev.d2v.train.step.ReplayedLosses;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The continuous trainer against the project's local Kafka broker, with the tiny image-only model. */
class ContinuousTrainerKafkaTest {

    private static final int BATCHES = 24;
    private static final int B = 4;
    private static final long SEED = 3;

    @TempDir
    Path tmp;

    /** Thrown by a listener to end a run the way kill -9 would: no shutdown checkpoint. */
    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(long step) {
            super("simulated kill -9 after step " + step);
        }
    }

    private static StreamSettings settings(long target) {
        return StreamSettings.defaults(List.of(Modality.IMAGE))
                .withCheckpoints(5, null, new RetentionPolicy(3, 0))
                .withStop(target, Duration.ofSeconds(45));
    }

    private static Properties props(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    /** One run of the loop over the image topic: resume from root, train to target, listeners as given. */
    private static StreamTrainer.Outcome run(String bootstrap, Topics topics, Path root, long target,
                                              List<Consumer<TrainedStep>> listeners, List<String> log,
                                              KafkaSinks sinks) throws Exception {
        return run(bootstrap, topics, root, target, listeners, log, sinks, Map.of());
    }

    /** The same, refusing image batches whose preprocessing config hash is not configHashes' (when it names image). */
    private static StreamTrainer.Outcome run(String bootstrap, Topics topics, Path root, long target,
                                              List<Consumer<TrainedStep>> listeners, List<String> log,
                                              KafkaSinks sinks, Map<Modality, Long> configHashes) throws Exception {
        try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), SEED)) {
            Map<String, Long> offsets = StreamTrainer.resume(t, root, log::add);
            try (KafkaBatchSource source = KafkaBatchSource.open(props(bootstrap), topics, List.of(Modality.IMAGE),
                    offsets, 4, CODEC, configHashes, log::add)) {
                StreamTrainer.Hooks hooks = new StreamTrainer.Hooks(listeners,
                        sinks == null ? d -> {} : sinks::deadLetter, sinks == null ? e -> {} : sinks::checkpoint, log::add);
                return StreamTrainer.train(t, source, offsets, settings(target), root, null, hooks, () -> false);
            }
        }
    }

    @Test
    void killedAtARandomStepAndRestartedTrainsEverySampleOnceWithTheLossesOfAnUnbrokenRun() throws Exception {
        ReplayedLosses.assertSameOnceMore(attempt -> killedAndRestarted(tmp.resolve("attempt-" + attempt)));
    }

    /** Fresh topics; the unbroken run, then one killed after a random step and restarted; both runs' losses. */
    private static ReplayedLosses.Replay killedAndRestarted(Path dir) throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = StreamFixtures.freshTopics(bootstrap);
        List<Minibatch> batches = StreamFixtures.images(0, BATCHES, B);
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            StreamFixtures.send(p, topics.batch(Modality.IMAGE), StreamFixtures.encoded(batches));
        }

        // the run that is never stopped
        Map<Long, Double> straight = new TreeMap<>();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        StreamTrainer.Outcome o = run(bootstrap, topics, dir.resolve("straight"), BATCHES,
                List.of(s -> straight.put(s.result().step(), s.result().loss())), log, null);
        assertThat(o.stepsThisRun()).isEqualTo(BATCHES);
        assertThat(o.lastCheckpoint().offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", (long) BATCHES);

        // killed after a random step: only the periodic checkpoints (every 5 steps) survive
        int kill = 6 + new Random().nextInt(BATCHES - 8);
        Path root = dir.resolve("killed");
        Path samples = root.resolve("trained-samples.jsonl");
        try (SampleLog sampleLog = new SampleLog(samples)) {
            assertThatThrownBy(() -> run(bootstrap, topics, root, BATCHES, List.of(sampleLog, s -> {
                if (s.result().step() == kill) {
                    throw new SimulatedCrash(kill);
                }
            }), log, null)).isInstanceOf(SimulatedCrash.class);
        }
        int firstRunLines = StreamFixtures.readJsonl(samples).size();
        assertThat(firstRunLines).isEqualTo(kill + 1);
        long checkpointStep = CheckpointStore.newestValid(root).checkpoint().orElseThrow().manifest().step();
        assertThat(checkpointStep).isEqualTo(kill / 5 * 5);

        // restarted: resumes at the checkpoint, seeks to its offsets, trains to the end
        try (SampleLog sampleLog = new SampleLog(samples)) {
            o = run(bootstrap, topics, root, BATCHES, List.of(sampleLog), log, null);
        }
        assertThat(o.stepsThisRun()).isEqualTo(BATCHES - checkpointStep);
        List<JsonNode> lines = StreamFixtures.readJsonl(samples);
        List<JsonNode> kept = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            // the first run's steps after its last checkpoint were retrained by the second run
            if (i >= firstRunLines || lines.get(i).get("step").asLong() < checkpointStep) {
                kept.add(lines.get(i));
            }
        }
        Map<String, Integer> trained = new HashMap<>();
        Map<Long, Double> losses = new TreeMap<>();
        for (JsonNode l : kept) {
            l.get("ids").forEach(id -> trained.merge(id.asText(), 1, Integer::sum));
            assertThat(losses.put(l.get("step").asLong(), l.get("loss").asDouble())).isNull();
        }
        List<String> all = batches.stream().flatMap(b -> b.sampleIds().stream()).toList();
        assertThat(trained).hasSize(BATCHES * B).containsOnlyKeys(all);
        assertThat(trained.values()).containsOnly(1);
        return new ReplayedLosses.Replay(straight, losses);
    }

    @Test
    void aCorruptNewestCheckpointIsReportedAndThePreviousOneUsed() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = StreamFixtures.freshTopics(bootstrap);
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            StreamFixtures.send(p, topics.batch(Modality.IMAGE), StreamFixtures.encoded(StreamFixtures.images(0, 12, B)));
        }
        Path root = tmp.resolve("ckpt");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        List<CheckpointEvent> events = new ArrayList<>();
        try (KafkaSinks sinks = new KafkaSinks(props(bootstrap), topics, log::add)) {
            run(bootstrap, topics, root, 12, List.of(), log, sinks);   // checkpoints at 5, 10 and 12 (shutdown)
            sinks.flush();
        }
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestClients.readAll(bootstrap, topics.checkpoints(), 3, true,
                Duration.ofSeconds(30))) {
            events.add(CheckpointEvent.fromJson(r.value()));
        }
        assertThat(events).extracting(CheckpointEvent::step).containsExactly(5L, 10L, 12L);
        assertThat(events.get(2).offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", 12L);
        assertThat(events.get(2).samplesSeen(Modality.IMAGE)).isEqualTo(12L * B);

        Path student = root.resolve(CheckpointStore.folderName(12)).resolve("student.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(student.toFile(), "rw")) {
            f.seek(f.length() - 3);
            f.write(f.read() ^ 0x5a);
        }
        List<String> resumeLog = Collections.synchronizedList(new ArrayList<>());
        try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), SEED)) {
            Map<String, Long> offsets = StreamTrainer.resume(t, root, resumeLog::add);
            assertThat(t.stepsDone()).isEqualTo(10);
            assertThat(offsets).containsEntry(topics.batch(Modality.IMAGE) + ":0", 10L);
        }
        assertThat(String.join("\n", resumeLog)).contains("step-000000012 is not usable").contains("SHA-256 mismatch")
                .contains("resumed from").contains("step 10");
        // the corrupt folder was moved aside, so the resumed run writes step 12 again
        StreamTrainer.Outcome o = run(bootstrap, topics, root, 12, List.of(), log, null);
        assertThat(o.stepsThisRun()).isEqualTo(2);
        assertThat(CheckpointStore.newestValid(root).checkpoint().orElseThrow().manifest().step()).isEqualTo(12);
        try (var files = Files.list(root)) {
            assertThat(files.map(f -> f.getFileName().toString())).anyMatch(n -> n.startsWith("rejected-step-000000012-"));
        }
    }

    @Test
    void anUndecodableMinibatchGoesToTheDeadLetterTopicAndIsSkipped() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = StreamFixtures.freshTopics(bootstrap);
        byte[] crc = CODEC.encode(StreamFixtures.image(1, B));
        crc[crc.length / 2] ^= 0x11;
        byte[] unknownVersion = CODEC.encode(StreamFixtures.image(2, B));
        unknownVersion[4] = 0x7f;   // the u16 version after the 4-byte magic "D2VB"
        unknownVersion[5] = 0x7f;
        List<byte[]> values = List.of(CODEC.encode(StreamFixtures.image(0, B)), crc, unknownVersion,
                "not a minibatch".getBytes(), CODEC.encode(StreamFixtures.image(3, B)));
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            StreamFixtures.send(p, topics.batch(Modality.IMAGE), values);
        }
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        StreamTrainer.Outcome o;
        try (KafkaSinks sinks = new KafkaSinks(props(bootstrap), topics, log::add)) {
            o = run(bootstrap, topics, tmp.resolve("dl"), 2, List.of(), log, sinks);
            sinks.flush();
        }
        assertThat(o.stepsThisRun()).isEqualTo(2);
        assertThat(o.deadLetters()).isEqualTo(3);
        assertThat(o.lastCheckpoint().offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", 5L);
        List<DeadLetter> dead = KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 3, true, Duration.ofSeconds(30))
                .stream().map(DeadLetter::fromConsumerRecord).toList();
        assertThat(dead).extracting(DeadLetter::offset).containsExactly(1L, 2L, 3L);
        assertThat(dead).extracting(DeadLetter::stage).containsOnly("train.image.undecodable");
        assertThat(dead).extracting(DeadLetter::topic).containsOnly(topics.batch(Modality.IMAGE));
        assertThat(dead).extracting(DeadLetter::errorClass).containsOnly(WireFormatException.class.getName());
        assertThat(dead.get(0).errorMessage()).containsIgnoringCase("crc");
        assertThat(dead.get(1).errorMessage()).containsIgnoringCase("version");
        assertThat(dead.get(0).value()).isEqualTo(crc);
    }

    @Test
    void aMinibatchFromAnotherPreprocessingConfigIsRefusedToTheDeadLetterTopic() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = StreamFixtures.freshTopics(bootstrap);
        long ours = 0x1234_5678_9abc_def0L;
        long theirs = 0x0fed_cba9_8765_4321L;
        List<byte[]> values = List.of(CODEC.encode(StreamFixtures.image(0, B, ours)),
                CODEC.encode(StreamFixtures.image(1, B, theirs)), CODEC.encode(StreamFixtures.image(2, B, ours)));
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            StreamFixtures.send(p, topics.batch(Modality.IMAGE), values);
        }
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        List<String> trained = Collections.synchronizedList(new ArrayList<>());
        StreamTrainer.Outcome o;
        try (KafkaSinks sinks = new KafkaSinks(props(bootstrap), topics, log::add)) {
            o = run(bootstrap, topics, tmp.resolve("hash"), 2, List.of(s -> trained.addAll(s.source().batch().sampleIds())),
                    log, sinks, Map.of(Modality.IMAGE, ours));
            sinks.flush();
        }
        assertThat(o.stepsThisRun()).isEqualTo(2);
        assertThat(o.deadLetters()).isEqualTo(1);
        assertThat(trained).noneMatch(id -> id.startsWith("img-1-")).hasSize(2 * B);
        assertThat(o.lastCheckpoint().offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", 3L);
        DeadLetter dead = DeadLetter.fromConsumerRecord(KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 1, true,
                Duration.ofSeconds(30)).get(0));
        assertThat(dead.offset()).isEqualTo(1L);
        assertThat(dead.stage()).isEqualTo("train.image.config-hash");
        assertThat(dead.errorMessage()).contains("0fedcba987654321").contains("123456789abcdef0")
                .contains("preprocess config hash");
        assertThat(dead.value()).isEqualTo(values.get(1));
    }

    @Test
    void aMinibatchTheModelCannotTakeIsDeadLetteredOnceAndTheRerunGoesPastIt() throws Exception {
        String bootstrap = SharedLocalKafka.bootstrap();
        Topics topics = StreamFixtures.freshTopics(bootstrap);
        long hash = 0x5eed_0000_0000_0001L;
        // 1x32x32 with the right config hash: before, `train` exited on it and every rerun resumed onto it again
        Minibatch s = SyntheticBatches.image(B, 1, 32, 1);
        Minibatch wrongSize = new Minibatch(s.modality(), s.dtype(), s.shape(), s.sampleIds(), s.validLengths(),
                s.labels(), false, hash, System.currentTimeMillis(), s.payload());
        List<byte[]> values = List.of(CODEC.encode(StreamFixtures.image(0, B, hash)), CODEC.encode(wrongSize),
                CODEC.encode(StreamFixtures.image(2, B, hash)));
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
            StreamFixtures.send(p, topics.batch(Modality.IMAGE), values);
        }
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        List<String> trained = Collections.synchronizedList(new ArrayList<>());
        Path root = tmp.resolve("shape");
        StreamTrainer.Outcome first;
        StreamTrainer.Outcome second;
        try (KafkaSinks sinks = new KafkaSinks(props(bootstrap), topics, log::add)) {
            first = run(bootstrap, topics, root, 2, List.of(st -> trained.addAll(st.source().batch().sampleIds())),
                    log, sinks, Map.of(Modality.IMAGE, hash));
            try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
                StreamFixtures.send(p, topics.batch(Modality.IMAGE), List.of(CODEC.encode(StreamFixtures.image(3, B, hash))));
            }
            second = run(bootstrap, topics, root, 3, List.of(st -> trained.addAll(st.source().batch().sampleIds())),
                    log, sinks, Map.of(Modality.IMAGE, hash));
            sinks.flush();
        }
        assertThat(first.stepsThisRun()).isEqualTo(2);
        assertThat(first.deadLetters()).isEqualTo(1);
        assertThat(first.lastCheckpoint().offsets()).containsEntry(topics.batch(Modality.IMAGE) + ":0", 3L);
        assertThat(second.stepsThisRun()).isEqualTo(1);
        assertThat(second.deadLetters()).isZero();
        assertThat(trained).hasSize(3 * B).allMatch(id -> !id.startsWith("img-1-"));
        DeadLetter dead = DeadLetter.fromConsumerRecord(KafkaTestClients.readAll(bootstrap, topics.deadLetter(), 1, true,
                Duration.ofSeconds(30)).get(0));
        assertThat(dead.offset()).isEqualTo(1L);
        assertThat(dead.stage()).isEqualTo("train.image.shape");
        assertThat(dead.errorMessage()).contains("1x32x32").contains("1x8x8");
        assertThat(dead.value()).isEqualTo(values.get(1));
    }
}
