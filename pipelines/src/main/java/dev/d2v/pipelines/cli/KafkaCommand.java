package dev.d2v.pipelines.cli;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `d2v kafka start` and `d2v kafka topics`. */
@Command(name = "kafka", mixinStandardHelpOptions = true, description = "The local Kafka broker and the d2v topics.",
        subcommands = {KafkaCommand.Start.class, KafkaCommand.TopicsCmd.class})
public final class KafkaCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {"Runs a real Apache Kafka broker (KRaft, single node) in a child JVM on 127.0.0.1 until Ctrl-C.",
                    "Storage is formatted on first start; prints a line 'bootstrap: 127.0.0.1:PORT'."})
    static final class Start implements Runnable {
        @Mixin
        ConfigOptions cfg;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "Broker storage (default: kafka.dataDir)")
        Path dataDir;

        @Option(names = "--port", paramLabel = "PORT", description = "Listener port; 0 = any free port (default: kafka.port)")
        Integer port;

        @Option(names = "--no-topics", description = "Do not create the d2v.* topics after the start")
        boolean noTopics;

        @Override
        public void run() {
            PipelineConfig c = cfg.load();
            Path dir = dataDir != null ? dataDir : Path.of(c.kafka().dataDir());
            int p = port != null ? port : c.kafka().port();
            LocalKafka broker = LocalKafka.start(new LocalKafka.Settings(dir, p, c.topics().maxMessageBytes(), null, false, null));
            System.out.println("bootstrap: " + broker.bootstrap());
            System.out.flush();
            if (!noTopics) {
                PipelineConfig local = c.forLocalBroker(broker.bootstrap());
                try (TopicAdmin admin = new TopicAdmin(local.kafka())) {
                    admin.ensureTopics(local.topics());
                    System.out.print(TopicAdmin.formatTable(admin.list(local.topicNames())));
                }
            }
            System.out.println("broker running (storage " + dir.toAbsolutePath() + "); Ctrl-C to stop");
            System.out.flush();
            CountDownLatch forever = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                broker.close();
                forever.countDown();
            }, "d2v-kafka-stop"));
            try {
                forever.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Command(name = "topics", mixinStandardHelpOptions = true,
            description = "Creates the missing d2v.* topics from the configuration and lists them with their record counts.")
    static final class TopicsCmd implements Runnable {
        @Mixin
        ConfigOptions cfg;

        @Option(names = "--no-create", description = "Only list, do not create missing topics")
        boolean noCreate;

        @Override
        public void run() {
            PipelineConfig c = cfg.load();
            try (TopicAdmin admin = new TopicAdmin(c.kafka())) {
                if (!noCreate) {
                    admin.ensureTopics(c.topics());
                }
                System.out.print(TopicAdmin.formatTable(admin.list(c.topicNames())));
            }
        }
    }
}
