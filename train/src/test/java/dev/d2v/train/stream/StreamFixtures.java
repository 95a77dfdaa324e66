package dev.d2v.train.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Topics, batches and a tiny image-only model for the continuous trainer's tests. */
final class StreamFixtures {

    static final MinibatchCodec CODEC = MinibatchCodec.inline();
    static final ObjectMapper JSON = new ObjectMapper();

    private StreamFixtures() {}

    /** The tiny model (D 32, two blocks) with its 8x8 one-channel image encoder only. */
    static Data2VecConfig imageOnly() {
        return TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE));
    }

    /** A fresh topic prefix with one-partition batch, checkpoint and dead-letter topics. */
    static Topics freshTopics(String bootstrap) throws ExecutionException, InterruptedException {
        Topics t = new Topics("t" + UUID.randomUUID().toString().substring(0, 8));
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (Admin a = Admin.create(p)) {
            List<NewTopic> topics = new ArrayList<>();
            for (Modality m : Modality.values()) {
                topics.add(new NewTopic(t.batch(m), 1, (short) 1));
            }
            topics.add(new NewTopic(t.checkpoints(), 1, (short) 1));
            topics.add(new NewTopic(t.deadLetter(), 1, (short) 1));
            a.createTopics(topics).all().get();
        }
        return t;
    }

    /** Image batch number i: b samples with ids img-&lt;i&gt;-&lt;j&gt;, created now. */
    static Minibatch image(int i, int b) {
        return image(i, b, 0);
    }

    /** Image batch number i, made with the preprocessing config whose hash is configHash. */
    static Minibatch image(int i, int b, long configHash) {
        Minibatch s = SyntheticBatches.image(b, 1, 8, i);
        return new Minibatch(s.modality(), s.dtype(), s.shape(), s.sampleIds(), s.validLengths(), s.labels(), false,
                configHash, System.currentTimeMillis(), s.payload());
    }

    static List<Minibatch> images(int from, int count, int b) {
        List<Minibatch> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(image(i, b));
        }
        return out;
    }

    static void send(KafkaProducer<byte[], byte[]> p, String topic, List<byte[]> values) throws Exception {
        for (byte[] v : values) {
            p.send(new ProducerRecord<>(topic, null, v)).get();
        }
    }

    static List<byte[]> encoded(List<Minibatch> batches) {
        return batches.stream().map(CODEC::encode).toList();
    }

    static List<JsonNode> readJsonl(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }
}
