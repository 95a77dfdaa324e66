package dev.d2v.infra.kafka;

import dev.d2v.infra.PrivateFiles;
import dev.d2v.infra.config.PipelineConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * A real Apache Kafka broker (KRaft, combined broker + controller, node id 1) in a child JVM bound to
 * 127.0.0.1, built from the kafka_2.13 server artifact on this JVM's classpath.
 *
 * <p>Lifecycle: {@link #start(Settings)} formats the storage on first use (once per data folder), starts the
 * broker and returns once an admin client can describe the cluster. {@link #stop()} and {@link #start()}
 * stop and restart the same broker on the same ports (to simulate an outage); {@link #close()} stops it for
 * good. A JVM shutdown hook stops the child on Ctrl-C or normal JVM exit, and the child itself exits when
 * this JVM disappears (see {@link ChildMain}).
 *
 * <p>Files under {@code dataDir}: {@code server.properties} (rewritten on every start from the settings),
 * {@code log4j2-broker.properties}, {@code kraft/} (the Kafka log directory: topic data and the metadata
 * log), and the broker's output in {@code broker.log} unless another log file is given.
 */
public final class LocalKafka implements AutoCloseable {

    /** The child JVM's heap: enough for a few 16 MB batches in flight, small enough for a laptop or CI. */
    static final String BROKER_HEAP = "-Xmx512m";
    /** Headroom over the largest record for the record batch header (61 bytes), record framing and record headers. */
    static final int MESSAGE_OVERHEAD_BYTES = 64 * 1024;
    /** Kafka's default socket.request.max.bytes (100 MiB); raised only when a record could exceed it. */
    static final int DEFAULT_SOCKET_REQUEST_MAX_BYTES = 100 * 1024 * 1024;
    /** A clean broker shutdown (controlled shutdown, log flush) takes a few seconds; after this it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /**
     * What to start.
     *
     * @param dataDir         storage folder; formatted on first start and reused afterwards
     * @param port            client port on 127.0.0.1; 0 = any free port (kept across {@link #stop()}/{@link #start()})
     * @param maxMessageBytes the largest record the pipeline writes; the broker's limits are raised to match
     * @param logFile         where the broker's stdout and stderr go (appended); null = {@code dataDir/broker.log}
     * @param inheritOutput   true = the broker writes to this process's stdout/stderr instead of the log file
     * @param startupTimeout  how long to wait for the broker to answer an admin client; null = 120 s (a cold
     *                        JVM on a loaded 2-core machine needs 10-30 s, the first format adds a few)
     * @param security        PLAINTEXT (null), or SASL_SSL: TLS and SCRAM-SHA-512 ({@link BrokerSecurity})
     */
    public record Settings(Path dataDir, int port, int maxMessageBytes, Path logFile, boolean inheritOutput,
                           Duration startupTimeout, Security security) {

        /** A PLAINTEXT broker. */
        public Settings(Path dataDir, int port, int maxMessageBytes, Path logFile, boolean inheritOutput,
                        Duration startupTimeout) {
            this(dataDir, port, maxMessageBytes, logFile, inheritOutput, startupTimeout, Security.PLAINTEXT);
        }

        public Settings {
            security = security == null ? Security.PLAINTEXT : security;
            if (dataDir == null) {
                throw new IllegalArgumentException("kafka data folder must be given");
            }
            dataDir = dataDir.toAbsolutePath().normalize();
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("kafka port must be 0..65535 (0 = any free port), got " + port);
            }
            if (maxMessageBytes < 1024) {
                throw new IllegalArgumentException("maxMessageBytes must be >= 1024, got " + maxMessageBytes);
            }
            logFile = logFile == null ? dataDir.resolve("broker.log") : logFile.toAbsolutePath();
            startupTimeout = startupTimeout == null ? Duration.ofSeconds(120) : startupTimeout;
        }

        /** A broker on {@code port} (0 = free port) storing in {@code dataDir}, with the configured 16 MB record limit. */
        public static Settings of(Path dataDir, int port) {
            return new Settings(dataDir, port, PipelineConfig.TopicSettings.defaults().maxMessageBytes(), null, false, null);
        }

        /** From the configuration: kafka.dataDir, kafka.port and topics.maxMessageBytes. */
        public static Settings from(PipelineConfig config) {
            return new Settings(Path.of(config.kafka().dataDir()), config.kafka().port(),
                    config.topics().maxMessageBytes(), null, false, null);
        }

        public Settings withPort(int newPort) {
            return new Settings(dataDir, newPort, maxMessageBytes, logFile, inheritOutput, startupTimeout, security);
        }

        public Settings withLogFile(Path newLogFile) {
            return new Settings(dataDir, port, maxMessageBytes, newLogFile, inheritOutput, startupTimeout, security);
        }

        public Settings withInheritOutput(boolean inherit) {
            return new Settings(dataDir, port, maxMessageBytes, logFile, inherit, startupTimeout, security);
        }

        public Settings withStartupTimeout(Duration timeout) {
            return new Settings(dataDir, port, maxMessageBytes, logFile, inheritOutput, timeout, security);
        }

        public Settings withSecurity(Security s) {
            return new Settings(dataDir, port, maxMessageBytes, logFile, inheritOutput, startupTimeout, s);
        }

        Path logDir() {
            return dataDir.resolve("kraft");
        }
    }

    /** How clients connect to the local broker. */
    public enum Security {
        /** No encryption, no authentication: the default, for a broker on 127.0.0.1 that only this machine reaches. */
        PLAINTEXT,
        /** TLS with the broker's own certificate and SCRAM-SHA-512 users ({@link BrokerSecurity}). */
        SASL_SSL;

        /** "plaintext" or "sasl_ssl", any case. */
        public static Security parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown security '" + s + "': expected plaintext or sasl_ssl");
            }
        }
    }

    /** The broker did not start or stop; the message says why and where its log is. */
    public static final class LocalKafkaException extends RuntimeException {
        public LocalKafkaException(String message) {
            super(message);
        }

        public LocalKafkaException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Settings settings;
    private final int port;
    private final int controllerPort;
    private final Thread shutdownHook;
    private final BrokerSecurity security;
    private Process process;
    private boolean closed;

    private LocalKafka(Settings settings, int port, int controllerPort) {
        this.settings = settings;
        this.port = port;
        this.controllerPort = controllerPort;
        this.shutdownHook = new Thread(this::stopQuietly, "d2v-local-kafka-shutdown");
        this.security = settings.security() == Security.SASL_SSL ? BrokerSecurity.ensure(settings.dataDir()) : null;
    }

    /**
     * Formats the storage if this is the first start on {@code settings.dataDir()}, starts the broker and
     * waits until it answers. Throws {@link LocalKafkaException} with the log's tail if it does not.
     */
    public static LocalKafka start(Settings settings) {
        int port = settings.port() == 0 ? freePort() : settings.port();
        LocalKafka kafka = new LocalKafka(settings, port, freePort());
        Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
        try {
            kafka.start();
            return kafka;
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
    }

    /** Starts the broker again after {@link #stop()}, on the same ports and storage. No-op if it runs. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("this LocalKafka is closed; start a new one on the same data folder");
        }
        if (isRunning()) {
            return;
        }
        requirePortFree(port, "client");
        requirePortFree(controllerPort, "controller");
        Path propsFile = writeConfig();
        if (!isFormatted(settings.logDir())) {
            format(propsFile);
        } else {
            requireFormattedFor(settings.security());
        }
        process = launch("kafka.Kafka", List.of(propsFile.toString()), BROKER_HEAP);
        awaitReady();
    }

    /** Stops the broker (SIGTERM, then a kill after {@link #STOP_GRACE}); {@link #start()} brings it back. */
    public synchronized void stop() {
        Process p = process;
        process = null;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Leaves stopping the broker to {@link #close()}: removes the shutdown hook that stops it when the JVM exits,
     * for a launcher whose own shutdown (a trainer's last checkpoint event, say) still needs the broker. The child
     * still exits when this JVM is gone ({@link ChildMain}). Returns this.
     */
    public synchronized LocalKafka keepUntilClosed() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shutdownInProgress) {
            // too late to keep it: the hook is running
        }
        return this;
    }

    /** Stops the broker for good and removes the shutdown hook. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shutdownInProgress) {
            // the JVM is exiting and the hook is running or has run: nothing to remove
        }
    }

    /**
     * Blocks until the broker process exits (the CLI's foreground mode: it ends on Ctrl-C through the
     * shutdown hook, or when the broker dies). Returns its exit code, or -1 if it is not running.
     */
    public int awaitExit() throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        return p == null ? -1 : p.waitFor();
    }

    /** "127.0.0.1:PORT", for bootstrap.servers. */
    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Settings settings() {
        return settings;
    }

    public Path logFile() {
        return settings.logFile();
    }

    /** The broker process's id, -1 when it does not run. */
    public synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Client properties for this broker: bootstrap.servers, and for SASL_SSL the TLS and SCRAM settings. */
    public Properties clientProps() {
        Properties p = new Properties();
        p.putAll(securityProperties());
        p.put("bootstrap.servers", bootstrap());
        return p;
    }

    /** The same broker as a {@link PipelineConfig.Kafka} section, e.g. for {@link TopicAdmin}. */
    public PipelineConfig.Kafka kafkaConfig() {
        return new PipelineConfig.Kafka(bootstrap(), settings.dataDir().toString(), port, securityProperties());
    }

    /** The client settings SASL_SSL needs (empty for PLAINTEXT): what goes into kafka.clientProperties. */
    public Map<String, String> securityProperties() {
        return security == null ? Map.of() : security.clientProperties();
    }

    /** The TLS and SCRAM material, or null for a PLAINTEXT broker. */
    public BrokerSecurity security() {
        return security;
    }

    // ---- configuration: pure functions ---------------------------------------------------------------

    /**
     * server.properties of a single combined KRaft node. Single-node rule: every replication factor and min
     * ISR is 1, internal topics included, or consumers loop on "coordinator not available" and transactional
     * producers time out waiting for the transaction state topic.
     */
    static Map<String, String> serverProperties(Path logDir, int port, int controllerPort, int maxMessageBytes) {
        int messageMax = brokerMessageMaxBytes(maxMessageBytes);
        Map<String, String> p = new TreeMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        // static quorum: the voter address comes from this file on every start, so a changed controller
        // port on a later start is harmless (a dynamic quorum would store it in the metadata log)
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // one replica of everything
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        // internal topics: 50 partitions each by default; a few are plenty locally and start much faster
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.num.partitions", "1");
        // no 3 s wait before the first consumer group rebalance: tests and the demo start consumers often
        p.put("group.initial.rebalance.delay.ms", "0");
        // topics come from `d2v kafka topics` with their settings; a typo must fail, not create a topic
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        // the largest record (a full minibatch) plus batch overhead must pass the broker and replication
        p.put("message.max.bytes", Integer.toString(messageMax));
        p.put("replica.fetch.max.bytes", Integer.toString(messageMax));
        p.put("socket.request.max.bytes",
                Integer.toString(Math.max(DEFAULT_SOCKET_REQUEST_MAX_BYTES, messageMax + MESSAGE_OVERHEAD_BYTES)));
        // Kafka's default cap on a producer's transaction.timeout.ms is 15 min; Flink's exactly-once sink keeps a
        // transaction open for a whole checkpoint interval and users set up to 1 h, so the cap is 1 h here
        p.put("transaction.max.timeout.ms", Long.toString(Duration.ofHours(1).toMillis()));
        return p;
    }

    /** The broker's message.max.bytes: the largest record plus headroom for batch and record headers. */
    static int brokerMessageMaxBytes(int maxMessageBytes) {
        long v = (long) maxMessageBytes + MESSAGE_OVERHEAD_BYTES;
        return (int) Math.min(Integer.MAX_VALUE - MESSAGE_OVERHEAD_BYTES, v);
    }

    /** The broker's own logging: INFO to stdout (which goes to the log file), the chattiest loggers at WARN. */
    static String log4jConfig() {
        return String.join("\n",
                "status = warn",
                "appender.out.type = Console",
                "appender.out.name = OUT",
                "appender.out.layout.type = PatternLayout",
                "appender.out.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.out.ref = OUT",
                "logger.state.name = state.change.logger",
                "logger.state.level = WARN",
                "logger.request.name = kafka.request.logger",
                "logger.request.level = WARN",
                "logger.authorizer.name = kafka.authorizer.logger",
                "logger.authorizer.level = WARN",
                "");
    }

    /** Storage is formatted once: Kafka writes meta.properties into the log directory when it formats. */
    static boolean isFormatted(Path logDir) {
        return Files.isRegularFile(logDir.resolve("meta.properties"));
    }

    /** A port that was free a moment ago on 127.0.0.1 (the usual race: someone may take it before the broker). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    // ---- child JVMs -----------------------------------------------------------------------------------

    private Path writeConfig() {
        try {
            Files.createDirectories(settings.logDir());
            Files.createDirectories(settings.logFile().toAbsolutePath().getParent());
            Properties props = new Properties();
            props.putAll(serverProperties(settings.logDir(), port, controllerPort, settings.maxMessageBytes()));
            if (security != null) {
                props.putAll(security.serverProperties(port, controllerPort));
            }
            Path file = settings.dataDir().resolve("server.properties");
            // owner-only: it holds the store and SCRAM passwords of a SASL_SSL broker
            PrivateFiles.write(file, out -> props.store(out, "written by d2v LocalKafka on every start; edits are overwritten"));
            Files.writeString(settings.dataDir().resolve("log4j2-broker.properties"), log4jConfig());
            return file;
        } catch (IOException e) {
            throw new LocalKafkaException("cannot write the broker configuration under " + settings.dataDir()
                    + ": " + e.getMessage(), e);
        }
    }

    /** kafka-storage.sh format: a new cluster id, static quorum from server.properties. */
    private void format(Path propsFile) {
        String clusterId = Uuid.randomUuid().toString();
        List<String> args = new ArrayList<>(List.of("format", "-t", clusterId, "-c", propsFile.toString()));
        if (security != null) {
            args.addAll(security.formatArguments());   // SCRAM users exist from the first start on
        }
        Process p = launch("kafka.tools.StorageTool", args,
                // short-lived: the C1 compiler alone starts it in about half the CPU time
                "-Xmx256m", "-XX:TieredStopAtLevel=1");
        try {
            if (!p.waitFor(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw failure("formatting the storage in " + settings.logDir() + " did not finish in "
                        + settings.startupTimeout().toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LocalKafkaException("interrupted while formatting the Kafka storage", e);
        }
        if (p.exitValue() != 0 || !isFormatted(settings.logDir())) {
            throw failure("formatting the storage in " + settings.logDir() + " failed (exit " + p.exitValue() + ")");
        }
        try {
            Files.writeString(securityMarker(), settings.security().name());
        } catch (IOException e) {
            throw new LocalKafkaException("cannot write " + securityMarker() + ": " + e.getMessage(), e);
        }
    }

    /** Which security the storage was formatted for (its SCRAM users are made by the format). */
    private Path securityMarker() {
        return settings.dataDir().resolve("security.mode");
    }

    private void requireFormattedFor(Security wanted) {
        Security formatted;
        try {
            formatted = Files.isRegularFile(securityMarker())
                    ? Security.parse(Files.readString(securityMarker())) : Security.PLAINTEXT;
        } catch (IOException e) {
            throw new LocalKafkaException("cannot read " + securityMarker() + ": " + e.getMessage(), e);
        }
        if (formatted != wanted) {
            throw new LocalKafkaException("the storage in " + settings.dataDir() + " was formatted for a " + formatted
                    + " broker; a " + wanted + " one needs its own data folder (--data-dir), since its SCRAM users are"
                    + " made when the storage is formatted");
        }
    }

    private Process launch(String mainClass, List<String> args, String... jvmOptions) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            // a session of its own: Ctrl-C in a terminal reaches the whole foreground process group, and the
            // launcher, not the signal, decides when the broker stops (its shutdown may still need the broker)
            cmd.add(SETSID.toString());
        }
        cmd.add(javaBinary());
        cmd.addAll(List.of(jvmOptions));
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dlog4j2.configurationFile=" + settings.dataDir().resolve("log4j2-broker.properties"));
        cmd.add("-Dkafka.logs.dir=" + settings.dataDir());
        cmd.add("-cp");
        // surefire may hand us a manifest-only jar here; its Class-Path entries work with -cp as well
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ChildMain.class.getName());
        cmd.add(Long.toString(ProcessHandle.current().pid()));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(settings.dataDir().toFile()).redirectErrorStream(true);
        if (settings.inheritOutput()) {
            pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        } else {
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(settings.logFile().toFile()));
        }
        try {
            return pb.start();
        } catch (IOException e) {
            throw new LocalKafkaException("cannot start a child JVM with " + cmd.get(0) + ": " + e.getMessage(), e);
        }
    }

    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Polls describeCluster until the broker answers, the child dies or the startup timeout passes. */
    private void awaitReady() {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        Properties props = clientProps();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        awaitListening(deadline);
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!process.isAlive()) {
                    throw failure("the Kafka broker exited during startup (exit " + process.exitValue() + ")");
                }
                try {
                    admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes().get();
                    return;
                } catch (Exception notYet) {
                    if (notYet instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        stop();
                        throw new LocalKafkaException("interrupted while waiting for the Kafka broker", notYet);
                    }
                }
                if (System.nanoTime() > deadline) {
                    stop();
                    throw failure("the Kafka broker did not answer on " + bootstrap() + " within "
                            + settings.startupTimeout().toSeconds() + " s");
                }
                sleep(200);
            }
        }
    }

    /**
     * Waits until the client port accepts TCP connections, before any Kafka client exists: a client polling a
     * closed port logs a warning per attempt, which would bury the one line the CLI prints.
     */
    private void awaitListening(long deadline) {
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw failure("the Kafka broker exited during startup (exit " + process.exitValue() + ")");
                }
                if (System.nanoTime() > deadline) {
                    stop();
                    throw failure("the Kafka broker did not open " + bootstrap() + " within "
                            + settings.startupTimeout().toSeconds() + " s");
                }
                sleep(200);
            }
        }
    }

    private LocalKafkaException failure(String what) {
        if (settings.inheritOutput()) {
            return new LocalKafkaException(what + "; see the broker output above");
        }
        return new LocalKafkaException(what + "; broker log: " + settings.logFile() + "\n--- last lines ---\n"
                + tail(settings.logFile(), 30));
    }

    /** The last {@code lines} lines of a text file, or a note if it cannot be read. */
    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    private static void requirePortFree(int port, String which) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the broker does: ports in TIME_WAIT after a stop() are usable
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new LocalKafkaException("cannot start the local Kafka broker: " + which + " port 127.0.0.1:" + port
                    + " is already in use (another broker still running? stop it, or pass --port 0 for a free port)", e);
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException ignored) {
            // JVM exit: nothing left to report to
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
