package dev.d2v.pipelines.cli;

import dev.d2v.infra.PrivateFiles;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.BrokerSecurity;
import dev.d2v.infra.kafka.LocalKafka;
import dev.d2v.infra.kafka.TopicAdmin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
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

        @Option(names = "--security", paramLabel = "MODE", defaultValue = "plaintext",
                description = {"plaintext, or sasl_ssl: TLS with a certificate made on the first start (keytool) and"
                        + " SCRAM-SHA-512 authentication; the clients' configuration is written to"
                        + " <data-dir>/security/d2v.yaml (owner-only) and its path printed (default: ${DEFAULT-VALUE})"})
        String security;

        @Override
        public void run() {
            PipelineConfig c = cfg.load();
            LocalKafka.Security mode;
            try {
                mode = LocalKafka.Security.parse(security);
            } catch (IllegalArgumentException e) {
                throw new UserError("--security: " + e.getMessage());
            }
            // a SASL_SSL broker's users are made when its storage is formatted: it keeps its own folder
            Path dir = dataDir != null ? dataDir : Path.of(c.kafka().dataDir()
                    + (mode == LocalKafka.Security.PLAINTEXT ? "" : "-" + mode.name().toLowerCase(Locale.ROOT)));
            int p = port != null ? port : c.kafka().port();
            LocalKafka broker = LocalKafka.start(new LocalKafka.Settings(dir, p, c.topics().maxMessageBytes(), null, false,
                    null, mode));
            System.out.println("bootstrap: " + broker.bootstrap());
            PipelineConfig local = c.forLocalBroker(broker.bootstrap(), broker.securityProperties());
            if (broker.security() != null) {
                Path clientConfig = broker.security().dir().resolve("d2v.yaml");
                try {
                    PrivateFiles.writeString(clientConfig, local.toYaml());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + clientConfig, e);
                }
                System.out.println("clients: --config " + clientConfig + " (TLS, SCRAM-SHA-512 as user "
                        + BrokerSecurity.CLIENT_USER + "; the truststore and credentials are in " + broker.security().dir()
                        + ", readable by you only)");
            }
            System.out.flush();
            if (!noTopics) {
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
