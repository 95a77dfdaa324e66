package dev.d2v.preprocess.cluster;

import dev.d2v.infra.kafka.ChildMain;
import dev.d2v.infra.kafka.LocalKafka;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A standalone Flink session cluster made of Flink's own processes, from the Flink jars on this JVM's classpath
 * (there is no flink-dist on Maven Central): a JobManager ({@code StandaloneSessionClusterEntrypoint}) and
 * TaskManagers ({@code TaskManagerRunner}, their JVM memory flags computed by Flink's {@code BashJavaUtils}, as the
 * distribution's scripts do), each a child JVM with Java 17's {@code --add-opens} list, all bound to 127.0.0.1.
 * Jobs are submitted with Flink's own CLI ({@code CliFrontend run}), as a user submits to any cluster.
 *
 * <p>The cluster classpath leaves out the Kafka connector, the Kafka clients and this project's classes: the job
 * jar brings them, and since {@code org.apache.flink.*} loads parent-first, a connector on the cluster classpath
 * would be the one used, against the job jar's Kafka clients (a loader constraint violation).
 *
 * <p>Children exit when this JVM does (even after kill -9 of it). Logs and configuration under {@code dir}.
 */
public final class LocalFlinkCluster implements AutoCloseable {

    /** Java 17's module openings Flink needs (the distribution's env.java.default-opts.all). */
    static final List<String> JAVA_OPTS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /**
     * @param dir        configuration, logs, the cluster's working folders
     * @param restPort   the REST endpoint (and web UI) on 127.0.0.1; 0 = a free port
     * @param slots      task slots per TaskManager
     */
    public record Settings(Path dir, int restPort, int slots, String taskManagerMemory, String jobManagerMemory) {
        public Settings {
            dir = dir.toAbsolutePath().normalize();
            if (restPort < 0 || restPort > 65535 || slots < 1) {
                throw new IllegalArgumentException("REST port 0..65535 and at least one slot, got " + restPort + ", " + slots);
            }
        }

        public static Settings of(Path dir) {
            return new Settings(dir, 0, 2, "1536m", "1024m");
        }
    }

    private final Settings settings;
    private final int restPort;
    private final List<String> classpath;
    private final Path conf;
    private Process jobManager;
    private final List<Process> taskManagers = new ArrayList<>();

    private LocalFlinkCluster(Settings settings, int restPort, List<String> classpath) {
        this.settings = settings;
        this.restPort = restPort;
        this.classpath = classpath;
        this.conf = settings.dir().resolve("conf");
    }

    /** Writes the configuration, starts the JobManager and {@code taskManagers} TaskManagers, waits for the REST API. */
    public static LocalFlinkCluster start(Settings s, int taskManagers) throws IOException, InterruptedException {
        int port = s.restPort() == 0 ? LocalKafka.freePort() : s.restPort();
        LocalFlinkCluster c = new LocalFlinkCluster(s, port, clusterClasspath());
        try {
            c.writeConfiguration();
            c.jobManager = c.launch("jobmanager", List.of("-Xmx" + s.jobManagerMemory()),
                    "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                    List.of("--configDir", c.conf.toString(), "--executionMode", "cluster"));
            c.awaitRest(Duration.ofMinutes(2));
            for (int i = 0; i < taskManagers; i++) {
                c.startTaskManager();
            }
            c.awaitTaskManagers(taskManagers, Duration.ofMinutes(2));
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** "http://127.0.0.1:PORT": the REST API and web UI, for {@code flink run -m}. */
    public String restAddress() {
        return "http://127.0.0.1:" + restPort;
    }

    public int restPort() {
        return restPort;
    }

    public List<Process> taskManagers() {
        return List.copyOf(taskManagers);
    }

    /** Starts one more TaskManager (its JVM sized by Flink's BashJavaUtils from the configuration). */
    public synchronized Process startTaskManager() throws IOException, InterruptedException {
        Process utils = new ProcessBuilder(command(classpath, List.of(), "org.apache.flink.runtime.util.bash.BashJavaUtils",
                List.of("GET_TM_RESOURCE_PARAMS", "--configDir", conf.toString()), false))
                .redirectErrorStream(true).start();
        String out;
        try (InputStream in = utils.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        utils.waitFor(60, TimeUnit.SECONDS);
        List<String> results = out.lines().filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
                .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim()).toList();
        if (results.size() < 2) {
            throw new IOException("BashJavaUtils did not compute the TaskManager's memory:\n" + out);
        }
        List<String> jvm = Arrays.asList(results.get(0).split("\\s+"));
        List<String> args = new ArrayList<>(List.of("--configDir", conf.toString()));
        args.addAll(Arrays.asList(results.get(1).split("\\s+")));
        Process tm = launch("taskmanager-" + taskManagers.size(), jvm,
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", args);
        taskManagers.add(tm);
        return tm;
    }

    /** Blocks until the JobManager exits (the command line's foreground mode; Ctrl-C ends it through close()). */
    public int awaitJobManager() throws InterruptedException {
        return jobManager.waitFor();
    }

    /** Kills a TaskManager as a crash would: SIGKILL, no shutdown. */
    public void killTaskManager(Process tm) throws InterruptedException {
        tm.destroyForcibly();
        tm.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * Submits a job jar with Flink's CLI ({@code CliFrontend run -m 127.0.0.1:PORT -d -c mainClass jar args}), in a
     * process of its own on the cluster classpath, as {@code flink run} would. Returns the CLI's output (it names the
     * job id); throws with the output when it fails.
     */
    public String submit(Path jobJar, String mainClass, List<String> args) throws IOException, InterruptedException {
        return submit(settings.dir(), jobJar, mainClass, args);
    }

    /**
     * The same for the cluster whose folder is {@code dir} (started by this or another process: {@code ./d2v flink
     * start}), its REST port read from the configuration there.
     */
    public static String submit(Path dir, Path jobJar, String mainClass, List<String> args)
            throws IOException, InterruptedException {
        Path conf = dir.toAbsolutePath().resolve("conf");
        String port = Files.readAllLines(conf.resolve("config.yaml")).stream().filter(l -> l.startsWith("rest.port:"))
                .map(l -> l.substring("rest.port:".length()).trim()).findFirst()
                .orElseThrow(() -> new IOException("no rest.port in " + conf.resolve("config.yaml") + ": is a cluster"
                        + " started there (./d2v flink start)?"));
        List<String> cli = new ArrayList<>(List.of("run", "-m", "127.0.0.1:" + port, "-d", "-c", mainClass,
                jobJar.toAbsolutePath().toString()));
        cli.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command(clusterClasspath(), List.of("-Xmx256m"),
                "org.apache.flink.client.cli.CliFrontend", cli, false)).redirectErrorStream(true);
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        Process p = pb.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("flink run failed:\n" + out);
        }
        return out;
    }

    /** GET on the REST API, the body as text. */
    public String rest(String path) throws IOException {
        try {
            HttpURLConnection c = (HttpURLConnection) new URI(restAddress() + path).toURL().openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(5000);
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(path, e);
        }
    }

    /** Cancels a job through the REST API (PATCH /jobs/:id). */
    public void cancel(String jobId) throws IOException, InterruptedException {
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(restAddress() + "/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding());
    }

    @Override
    public synchronized void close() {
        for (Process tm : taskManagers) {
            tm.destroy();
        }
        if (jobManager != null) {
            jobManager.destroy();
        }
        for (Process p : all()) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private List<Process> all() {
        List<Process> out = new ArrayList<>(taskManagers);
        if (jobManager != null) {
            out.add(jobManager);
        }
        return out;
    }

    // ---- configuration and processes ----

    private void writeConfiguration() throws IOException {
        Files.createDirectories(conf);
        Files.createDirectories(settings.dir().resolve("log"));
        Path tmp = Files.createDirectories(settings.dir().resolve("tmp"));
        String yaml = String.join("\n",
                "# written by d2v's LocalFlinkCluster on every start",
                "jobmanager.rpc.address: 127.0.0.1",
                "jobmanager.bind-host: 127.0.0.1",
                "jobmanager.rpc.port: " + LocalKafka.freePort(),
                "jobmanager.memory.process.size: " + settings.jobManagerMemory(),
                "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.host: 127.0.0.1",
                "taskmanager.numberOfTaskSlots: " + settings.slots(),
                "taskmanager.memory.process.size: " + settings.taskManagerMemory(),
                "rest.address: 127.0.0.1",
                "rest.bind-address: 127.0.0.1",
                "rest.port: " + restPort,
                "blob.server.port: " + LocalKafka.freePort(),
                "io.tmp.dirs: " + tmp,
                "parallelism.default: 1",
                // a TaskManager killed with -9 is noticed within seconds, not the default 50 s
                "heartbeat.interval: 2000",
                "heartbeat.timeout: 10000",
                "");
        Files.writeString(conf.resolve("config.yaml"), yaml);
        Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
                "rootLogger.level = INFO", "rootLogger.appenderRef.file.ref = MainAppender",
                "appender.main.name = MainAppender", "appender.main.type = File",
                "appender.main.fileName = ${sys:log.file}", "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n", ""));
        Files.writeString(conf.resolve("log4j-cli.properties"), Files.readString(conf.resolve("log4j.properties")));
    }

    private Process launch(String name, List<String> jvm, String mainClass, List<String> args) throws IOException {
        Path log = settings.dir().resolve("log").resolve(name + ".log");
        List<String> opts = new ArrayList<>(jvm);
        opts.add("-Dlog.file=" + log);
        opts.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties"));
        ProcessBuilder pb = new ProcessBuilder(command(classpath, opts, mainClass, args, true))
                .directory(settings.dir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(settings.dir().resolve("log").resolve(name + ".out").toFile()));
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        return pb.start();
    }

    /** java [jvm opts] [--add-opens...] -cp CLUSTER [ChildMain <this pid>] mainClass args. */
    private static List<String> command(List<String> classpath, List<String> jvm, String mainClass, List<String> args,
                                        boolean tiedToThisJvm) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvm);
        cmd.addAll(JAVA_OPTS);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classpath));
        if (tiedToThisJvm) {
            cmd.add(ChildMain.class.getName());
            cmd.add(Long.toString(ProcessHandle.current().pid()));
        }
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    private void awaitRest(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                rest("/overview");
                return;
            } catch (IOException notYet) {
                if (!jobManager.isAlive()) {
                    throw new IOException("the JobManager exited (" + jobManager.exitValue() + "); see "
                            + settings.dir().resolve("log"));
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("the JobManager's REST API did not answer on " + restAddress() + " within "
                            + timeout.toSeconds() + " s; see " + settings.dir().resolve("log"));
                }
                Thread.sleep(300);
            }
        }
    }

    /** Waits until the JobManager counts n TaskManagers. */
    public void awaitTaskManagers(int n, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String overview = rest("/overview");
            int i = overview.indexOf("\"taskmanagers\":");
            int count = i < 0 ? -1 : Integer.parseInt(overview.substring(i + 15).replaceAll("^(\\d+).*", "$1"));
            if (count == n) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(count + " TaskManagers registered, not " + n + ", within " + timeout.toSeconds()
                        + " s; see " + settings.dir().resolve("log"));
            }
            Thread.sleep(300);
        }
    }

    /**
     * The Flink runtime without the Kafka connector, the Kafka clients and this project's classes (the job jar
     * brings those), plus the one class of ours that ties the children to this JVM.
     */
    static List<String> clusterClasspath() throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : expand(System.getProperty("java.class.path"))) {
            String name = Path.of(e).getFileName() == null ? e : Path.of(e).getFileName().toString();
            boolean ours = e.contains("/dev/d2v/") || name.startsWith("d2v-") || e.endsWith("/target/classes")
                    || e.endsWith("/target/test-classes");
            boolean kafka = e.contains("/org/apache/kafka/") || name.startsWith("kafka") || name.startsWith("flink-connector-kafka");
            if (!ours && !kafka) {
                out.add(e);
            }
        }
        try {
            out.add(Path.of(ChildMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate " + ChildMain.class, e);
        }
        return out;
    }

    /** The classpath's entries, a manifest-only jar (as surefire writes) replaced by its Class-Path. */
    static List<String> expand(String classpath) throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : classpath.split(File.pathSeparator)) {
            if (e.isEmpty()) {
                continue;
            }
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p) && p.getFileName().toString().startsWith("surefire")) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.trim().split("\\s+")) {
                            try {
                                out.add(Path.of(new URI(u).isAbsolute() ? new URI(u) : p.getParent().toUri().resolve(u)).toString());
                            } catch (URISyntaxException bad) {
                                throw new IOException("bad Class-Path entry " + u + " in " + p, bad);
                            }
                        }
                        continue;
                    }
                }
            }
            out.add(e);
        }
        return out;
    }
}
