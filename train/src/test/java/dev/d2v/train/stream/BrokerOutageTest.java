package dev.d2v.train.stream;

import static dev.d2v.train.stream.StreamFixtures.CODEC;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.kafka.KafkaTestClients;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.train.step.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker stopped and started again mid-run: the trainer pauses, then continues, losing and repeating nothing. */
class BrokerOutageTest {

    @TempDir
    Path tmp;

    /**
     * The engine loads here, on the test thread, not on the executor below: PyTorch's grad mode is per thread and DJL
     * turns it off only where the engine loads, so later test classes that step a trainer on this thread need it.
     */
    @BeforeAll
    static void loadTheEngineOnTheTestThread() {
        Engine.getInstance();
    }

    @Test
    void theTrainerPausesDuringAnOutageAndResumesByItself() throws Exception {
        try (LocalKafka kafka = LocalKafka.start(LocalKafka.Settings.of(tmp.resolve("kafka"), 0))) {
            String bootstrap = kafka.bootstrap();
            Topics topics = StreamFixtures.freshTopics(bootstrap);
            List<Minibatch> before = StreamFixtures.images(0, 6, 4);
            List<Minibatch> after = StreamFixtures.images(6, 6, 4);
            try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
                StreamFixtures.send(p, topics.batch(Modality.IMAGE), StreamFixtures.encoded(before));
            }
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch firstSix = new CountDownLatch(6);
            StreamSettings s = StreamSettings.defaults(List.of(Modality.IMAGE)).withStop(12, Duration.ofSeconds(120));
            CompletableFuture<StreamTrainer.Outcome> run = CompletableFuture.supplyAsync(() -> {
                try (Trainer t = new Trainer(StreamFixtures.imageOnly(), Device.cpu(), 1);
                     KafkaBatchSource source = KafkaBatchSource.open(kafka.clientProps(), topics, List.of(Modality.IMAGE),
                             Map.of(), 4, CODEC, Map.of(), m -> {})) {
                    return StreamTrainer.train(t, source, Map.of(), s, tmp.resolve("ckpt"), null,
                            StreamTrainer.Hooks.quiet().withListeners(List.of(x -> {
                                ids.addAll(x.source().batch().sampleIds());
                                firstSix.countDown();
                            })), () -> false);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(firstSix.await(60, TimeUnit.SECONDS)).isTrue();
            kafka.stop();
            Thread.sleep(3000);
            assertThat(run).isNotDone();   // waiting, not failed
            kafka.start();
            try (KafkaProducer<byte[], byte[]> p = KafkaTestClients.producer(bootstrap, 1 << 20)) {
                StreamFixtures.send(p, topics.batch(Modality.IMAGE), StreamFixtures.encoded(after));
            }
            StreamTrainer.Outcome o = run.get(90, TimeUnit.SECONDS);
            assertThat(o.stepsThisRun()).isEqualTo(12);
            List<String> expected = new ArrayList<>();
            before.forEach(b -> expected.addAll(b.sampleIds()));
            after.forEach(b -> expected.addAll(b.sampleIds()));
            assertThat(ids).containsExactlyElementsOf(expected);
        }
    }
}
