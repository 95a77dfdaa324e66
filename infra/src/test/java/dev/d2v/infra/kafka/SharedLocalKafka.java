package dev.d2v.infra.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One real local Kafka broker per test JVM, started on first use in a temporary folder on a free port and
 * stopped (folder deleted) when the JVM exits. Other modules' tests get it from the infra test-jar:
 * {@code SharedLocalKafka.get().bootstrap()}, or a {@code LocalKafka} parameter with {@link LocalKafkaExtension}.
 *
 * <p>Tests that share it must use their own topic names (e.g. with a random suffix), and must not
 * {@code stop()} it: a test that simulates an outage starts its own {@link LocalKafka}.
 */
public final class SharedLocalKafka {
    private static LocalKafka kafka;

    private SharedLocalKafka() {
    }

    /** The shared broker, started on the first call (10-30 s on a small machine), then immediately. */
    public static synchronized LocalKafka get() {
        if (kafka == null) {
            Path dir = tempDir();
            // the broker's own shutdown hook stops it; this one deletes its folder afterwards
            kafka = LocalKafka.start(LocalKafka.Settings.of(dir, 0));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                kafka.close();
                deleteQuietly(dir);
            }, "d2v-shared-kafka-cleanup"));
        }
        return kafka;
    }

    /** "127.0.0.1:PORT" of the shared broker. */
    public static String bootstrap() {
        return get().bootstrap();
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("d2v-test-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort at JVM exit
        }
    }
}
