package dev.d2v.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.infra.kafka.TopicAdmin;
import dev.d2v.preprocess.job.PreprocessJobConfig;
import dev.d2v.preprocess.job.PreprocessJobMain;
import dev.d2v.preprocess.job.PreprocessOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import java.util.zip.ZipFile;

/**
 * The deployment files under deploy/ (Kubernetes manifests, the compose file, the Dockerfiles, the README's
 * command lines): every YAML document parses and has its kind's required fields, and everything they name
 * exists here: the job entry class and its arguments, the `d2v` subcommands and their options (parsed by the
 * real picocli tree of {@link Main}), the topics of the topic layout, the config map's configuration.
 */
class DeploymentFilesTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String JOB_MAIN = "dev.d2v.preprocess.job.PreprocessJobMain";
    /** `flink run ... -c CLASS JAR ARGS` in comments and docs: group 1 the class, group 2 the arguments. */
    private static final Pattern FLINK_RUN = Pattern.compile("flink run\\b.*?-c\\s+(\\S+)\\s+\\S+\\.jar((?:\\s+--?[\\w-]+(?:\\s+[^\\s\\\\#-]\\S*)?)*)");

    /** One YAML document of one file. */
    record Doc(Path file, JsonNode node) {
        String kind() {
            return node.path("kind").asText();
        }

        String name() {
            return node.path("metadata").path("name").asText();
        }

        @Override
        public String toString() {
            return kind() + " " + name() + " (" + root().relativize(file) + ")";
        }
    }

    // ---- files ----

    /** The repository root: the nearest folder up from the working directory that holds deploy/. */
    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("deploy"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no deploy/ folder above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    static List<Path> files(String... suffixes) {
        try (Stream<Path> s = Files.walk(root().resolve("deploy"))) {
            return s.filter(Files::isRegularFile)
                    .filter(f -> Arrays.stream(suffixes).anyMatch(x -> f.getFileName().toString().endsWith(x)))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every non-empty document of every YAML file under deploy/ (multi-document files split at ---). */
    static List<Doc> docs() {
        List<Doc> out = new ArrayList<>();
        for (Path f : files(".yaml", ".yml")) {
            try (var parser = YAML.getFactory().createParser(f.toFile())) {
                for (JsonNode n : YAML.readValues(parser, JsonNode.class).readAll()) {
                    if (n != null && !n.isNull() && !n.isEmpty()) {
                        out.add(new Doc(f, n));
                    }
                }
            } catch (IOException e) {
                fail(root().relativize(f) + " does not parse as YAML: " + e.getMessage());
            }
        }
        return out;
    }

    static List<Doc> k8s(String kind) {
        return docs().stream().filter(d -> d.file().startsWith(root().resolve("deploy/k8s")) && d.kind().equals(kind)).toList();
    }

    static String text(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The configuration of the d2v-config map, loaded as the programs load it (unknown keys fail). */
    static PipelineConfig clusterConfig() throws IOException {
        Doc cm = k8s("ConfigMap").stream().filter(d -> d.name().equals("d2v-config")).findFirst()
                .orElseThrow(() -> new AssertionError("no ConfigMap d2v-config under deploy/k8s"));
        Path tmp = Files.createTempFile("d2v-config", ".yaml");
        try {
            Files.writeString(tmp, cm.node().path("data").path("d2v.yaml").asText());
            return PipelineConfig.load(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static List<String> strings(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    static void require(Doc d, String pointer) {
        JsonNode n = d.node().at(pointer);
        assertFalse(n.isMissingNode() || n.isNull() || (n.isTextual() && n.asText().isBlank())
                || (n.isContainerNode() && n.isEmpty()), d + ": missing " + pointer);
    }

    // ---- shapes ----

    @Test
    void everyDocumentHasItsKindsRequiredFields() {
        Map<String, String> apiVersions = Map.of(
                "FlinkDeployment", "flink.apache.org/v1beta1",
                "Kafka", "kafka.strimzi.io/v1beta2", "KafkaNodePool", "kafka.strimzi.io/v1beta2",
                "KafkaTopic", "kafka.strimzi.io/v1beta2",
                "Deployment", "apps/v1", "ConfigMap", "v1", "PersistentVolumeClaim", "v1");
        List<Doc> all = docs().stream().filter(d -> d.file().startsWith(root().resolve("deploy/k8s"))).toList();
        assertFalse(all.isEmpty(), "no manifests under deploy/k8s");
        for (Doc d : all) {
            assertTrue(apiVersions.containsKey(d.kind()), d + ": unexpected kind; known: " + apiVersions.keySet());
            assertEquals(apiVersions.get(d.kind()), d.node().path("apiVersion").asText(), d + ": apiVersion");
            require(d, "/metadata/name");
            switch (d.kind()) {
                case "FlinkDeployment" -> {
                    for (String p : List.of("/spec/image", "/spec/flinkVersion", "/spec/serviceAccount", "/spec/jobManager/resource/memory",
                            "/spec/taskManager/resource/memory", "/spec/job/jarURI", "/spec/job/entryClass", "/spec/job/args",
                            "/spec/job/parallelism", "/spec/job/upgradeMode",
                            "/spec/flinkConfiguration/execution.checkpointing.dir",
                            "/spec/flinkConfiguration/execution.checkpointing.savepoint-dir")) {
                        require(d, p);
                    }
                }
                case "Kafka" -> {
                    assertEquals("enabled", d.node().at("/metadata/annotations/strimzi.io~1kraft").asText(), d + ": KRaft annotation");
                    assertEquals("enabled", d.node().at("/metadata/annotations/strimzi.io~1node-pools").asText(), d + ": node pools annotation");
                    require(d, "/spec/kafka/listeners");
                    // KafkaTopic resources need the topic operator (an empty object enables it)
                    assertFalse(d.node().at("/spec/entityOperator/topicOperator").isMissingNode(), d + ": no topic operator");
                }
                case "KafkaNodePool" -> {
                    require(d, "/spec/replicas");
                    require(d, "/spec/roles");
                    require(d, "/spec/storage");
                }
                case "KafkaTopic" -> {
                    require(d, "/spec/topicName");
                    require(d, "/spec/partitions");
                    require(d, "/spec/replicas");
                }
                case "Deployment" -> {
                    require(d, "/spec/selector/matchLabels");
                    require(d, "/spec/template/spec/containers");
                    assertEquals(d.node().at("/spec/selector/matchLabels"),
                            intersect(d.node().at("/spec/selector/matchLabels"), d.node().at("/spec/template/metadata/labels")),
                            d + ": the selector must match the pod labels");
                    containers(d).forEach(c -> assertFalse(c.path("image").asText().isBlank(), d + ": a container without image"));
                }
                case "ConfigMap" -> require(d, "/data");
                case "PersistentVolumeClaim" -> {
                    require(d, "/spec/accessModes");
                    require(d, "/spec/resources/requests/storage");
                }
                default -> fail(d + ": no checks for this kind");
            }
        }
        // every piece the issue asks for is there
        Set<String> modalities = k8s("FlinkDeployment").stream()
                .map(d -> argValue(strings(d.node().at("/spec/job/args")), "--modality")).collect(Collectors.toSet());
        assertEquals(Set.of("image", "audio", "text"), modalities, "one FlinkDeployment per preprocessing job");
        assertEquals(1, k8s("Kafka").size(), "one Strimzi Kafka");
        assertFalse(k8s("KafkaNodePool").isEmpty(), "a KafkaNodePool");
        assertEquals(Set.of("d2v-trainer", "d2v-evaluator"), k8s("Deployment").stream().map(Doc::name).collect(Collectors.toSet()));
    }

    private static JsonNode intersect(JsonNode selector, JsonNode labels) {
        var out = YAML.createObjectNode();
        selector.fieldNames().forEachRemaining(k -> {
            if (labels.has(k)) {
                out.set(k, labels.get(k));
            }
        });
        return out;
    }

    static List<JsonNode> containers(Doc d) {
        List<JsonNode> out = new ArrayList<>();
        d.node().at("/spec/template/spec/initContainers").forEach(out::add);
        d.node().at("/spec/template/spec/containers").forEach(out::add);
        return out;
    }

    @Test
    void everyReferencedVolumeClusterAndConfigMapIsDefined() {
        Set<String> claims = k8s("PersistentVolumeClaim").stream().map(Doc::name).collect(Collectors.toSet());
        Set<String> maps = k8s("ConfigMap").stream().map(Doc::name).collect(Collectors.toSet());
        // made from a file by kubectl (deploy/README.md): the text vocabulary is data, not a manifest
        maps.add("d2v-text-vocab");
        Set<String> clusters = k8s("Kafka").stream().map(Doc::name).collect(Collectors.toSet());
        for (Doc d : docs()) {
            d.node().findValues("claimName").forEach(n -> assertTrue(claims.contains(n.asText()), d + ": no PVC " + n.asText()));
            for (JsonNode cm : d.node().findValues("configMap")) {
                String name = cm.path("name").asText();
                assertTrue(maps.contains(name), d + ": no ConfigMap " + name);
            }
            if (d.kind().startsWith("Kafka") && !d.kind().equals("Kafka")) {
                String cluster = d.node().at("/metadata/labels/strimzi.io~1cluster").asText();
                assertTrue(clusters.contains(cluster), d + ": strimzi.io/cluster '" + cluster + "' is not a Kafka here");
            }
        }
    }

    // ---- Kafka ----

    @Test
    void kafkaTopicsAreTheTopicLayoutOfTheClusterConfiguration() throws IOException {
        PipelineConfig c = clusterConfig();
        Set<String> expected = TopicAdmin.specs(c.topics()).stream()
                .map(s -> s.name() + " partitions=" + s.partitions() + " replicas=" + s.replicationFactor()
                        + " retention.ms=" + s.retentionMs() + " max.message.bytes=" + s.maxMessageBytes())
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> actual = k8s("KafkaTopic").stream()
                .map(d -> d.node().path("spec"))
                .map(s -> s.path("topicName").asText() + " partitions=" + s.path("partitions").asInt()
                        + " replicas=" + s.path("replicas").asInt() + " retention.ms=" + s.at("/config/retention.ms").asLong()
                        + " max.message.bytes=" + s.at("/config/max.message.bytes").asInt())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, actual, "KafkaTopic resources vs TopicAdmin.specs(d2v-config)");
        assertEquals(new TreeSet<>(c.topicNames().all()), k8s("KafkaTopic").stream()
                .map(d -> d.node().at("/spec/topicName").asText()).collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void brokerTakesTheLargestRecordAndTheJobsTransactions() throws IOException {
        PipelineConfig c = clusterConfig();
        JsonNode config = k8s("Kafka").get(0).node().at("/spec/kafka/config");
        long txMax = config.path("transaction.max.timeout.ms").asLong();
        assertTrue(txMax > PreprocessJobConfig.DEFAULT_TRANSACTION_TIMEOUT_MS,
                "transaction.max.timeout.ms " + txMax + " must exceed the jobs' transaction.timeout.ms "
                        + PreprocessJobConfig.DEFAULT_TRANSACTION_TIMEOUT_MS + ", or their sinks are refused");
        for (String key : List.of("message.max.bytes", "replica.fetch.max.bytes")) {
            assertTrue(config.path(key).asLong() >= c.topics().maxMessageBytes(), key + " below topics.maxMessageBytes");
        }
        int brokers = k8s("KafkaNodePool").stream().filter(d -> strings(d.node().at("/spec/roles")).contains("broker"))
                .mapToInt(d -> d.node().at("/spec/replicas").asInt()).sum();
        assertTrue(brokers >= c.topics().replicationFactor(), brokers + " brokers cannot hold replication factor "
                + c.topics().replicationFactor());
        assertTrue(k8s("KafkaNodePool").stream().anyMatch(d -> strings(d.node().at("/spec/roles")).contains("controller")),
                "KRaft needs a controller pool");
        assertEquals("d2v-kafka-bootstrap:9092", c.kafka().bootstrap(), "the config map points at the Strimzi bootstrap service");
    }

    // ---- Flink ----

    @Test
    void flinkDeploymentsRunTheJobMainWithItsOwnArguments() throws Exception {
        PipelineConfig c = clusterConfig();
        for (Doc d : k8s("FlinkDeployment")) {
            JsonNode job = d.node().at("/spec/job");
            assertEquals(JOB_MAIN, job.path("entryClass").asText(), d + ": entryClass");
            assertMainClass(job.path("entryClass").asText(), d.toString());
            List<String> args = strings(job.path("args"));
            Map<String, String> parsed = parseJobArgs(args, d.toString());
            List<Modality> modalities = PreprocessOptions.parseModalities(parsed.get("--modality"));
            // --parallelism decides the batcher keys; the operator's parallelism must be the same number
            int parallelism = Integer.parseInt(parsed.getOrDefault("--parallelism", "1"));
            assertEquals(job.path("parallelism").asInt(), parallelism, d + ": job.parallelism vs --parallelism");
            assertTrue(parallelism <= c.topics().partitions(), d + ": parallelism " + parallelism
                    + " above the " + c.topics().partitions() + " partitions of its raw topic (idle source subtasks)");
            // the files it names are mounted in the job manager
            assertMounted(d, parsed.get("--config"));
            if (modalities.contains(Modality.TEXT)) {
                assertTrue(parsed.containsKey("--vocab"), d + ": the text job needs --vocab");
                assertMounted(d, parsed.get("--vocab"));
            }
            String jar = job.path("jarURI").asText();
            assertTrue(jar.startsWith("local://"), d + ": jarURI " + jar);
            assertTrue(text(root().resolve("deploy/flink.Dockerfile")).contains(jar.substring("local://".length())),
                    d + ": deploy/flink.Dockerfile does not put the job jar at " + jar);
        }
    }

    @Test
    void documentedFlinkRunLinesNameTheJobMainAndItsArguments() throws Exception {
        List<Path> sources = new ArrayList<>(files(".yml", ".yaml", ".md", "Dockerfile"));
        int lines = 0;
        for (Path f : sources) {
            Matcher m = FLINK_RUN.matcher(text(f));
            while (m.find()) {
                lines++;
                String where = root().relativize(f) + ": " + m.group().strip();
                assertMainClass(m.group(1), where);
                parseJobArgs(Arrays.stream(m.group(2).trim().split("\\s+")).filter(s -> !s.isEmpty()).toList(), where);
            }
        }
        assertTrue(lines >= 3, "expected a documented `flink run -c` line per job under deploy/, found " + lines);
    }

    /** The jar flink.Dockerfile copies is the shade plugin's "job" artifact; once built, it holds the entry class and no Flink runtime. */
    @Test
    void flinkImageCopiesTheJobJarWithTheEntryClass() throws IOException {
        Matcher copy = Pattern.compile("(?m)^COPY\\s.*?(preprocess/flink/target/\\S+\\.jar)\\s").matcher(text(root().resolve("deploy/flink.Dockerfile")));
        assertTrue(copy.find(), "deploy/flink.Dockerfile copies no preprocess/flink/target/*.jar");
        Matcher version = Pattern.compile("<artifactId>d2v-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(text(root().resolve("pom.xml")));
        assertTrue(version.find(), "no d2v-parent version in pom.xml");
        // the shade plugin's shadedClassifierName is "job" (preprocess/flink/pom.xml)
        assertEquals("preprocess/flink/target/d2v-preprocess-flink-" + version.group(1) + "-job.jar", copy.group(1), "the job jar's file name");
        Path jar = root().resolve(copy.group(1));
        Assumptions.assumeTrue(Files.isRegularFile(jar), "the job jar is not built (mvn -B -pl preprocess/flink -am package "
                + "-DskipTests): its entries are unchecked");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            assertTrue(zip.getEntry(JOB_MAIN.replace('.', '/') + ".class") != null, jar + " lacks " + JOB_MAIN);
            assertTrue(zip.getEntry("org/apache/flink/connector/kafka/source/KafkaSource.class") != null,
                    jar + " lacks the Kafka connector (the cluster does not provide it)");
            assertTrue(zip.getEntry("org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class") == null,
                    jar + " bundles Flink itself (the cluster provides it: scope provided)");
        }
    }

    private static Map<String, String> parseJobArgs(List<String> args, String where) throws Exception {
        Method parse = PreprocessJobMain.class.getDeclaredMethod("parse", String[].class);
        parse.setAccessible(true);
        try {
            @SuppressWarnings("unchecked")
            Map<String, String> out = (Map<String, String>) parse.invoke(null, (Object) args.toArray(String[]::new));
            assertTrue(out.containsKey("--modality"), where + ": no --modality");
            PreprocessOptions.parseModalities(out.get("--modality"));
            return out;
        } catch (InvocationTargetException e) {
            throw new AssertionError(where + ": " + e.getCause().getMessage(), e.getCause());
        } catch (IllegalArgumentException e) {
            throw new AssertionError(where + ": " + e.getMessage(), e);
        }
    }

    private static void assertMounted(Doc d, String file) {
        JsonNode mounts = d.node().at("/spec/podTemplate/spec/containers/0/volumeMounts");
        boolean mounted = StreamSupport.stream(mounts.spliterator(), false)
                .anyMatch(m -> file.startsWith(m.path("mountPath").asText() + "/"));
        assertTrue(mounted, d + ": " + file + " is not under a volume mount of flink-main-container");
    }

    private static void assertMainClass(String name, String where) {
        try {
            Method main = Class.forName(name).getMethod("main", String[].class);
            assertTrue(Modifier.isStatic(main.getModifiers()), where + ": " + name + ".main is not static");
        } catch (ClassNotFoundException e) {
            fail(where + ": class " + name + " is not on the classpath");
        } catch (NoSuchMethodException e) {
            fail(where + ": " + name + " has no main(String[])");
        }
    }

    // ---- the d2v command line ----

    @Test
    void containerArgsAreCommandsAndOptionsOfTheCommandLine() {
        int checked = 0;
        for (Doc d : k8s("Deployment")) {
            for (JsonNode c : containers(d)) {
                List<String> args = strings(c.path("args"));
                if (args.isEmpty() || (args.get(0).equals("train") && !hasCommand("train"))) {
                    continue; // the trainer: trainerArgs below
                }
                assertParses(args, d + " container " + c.path("name").asText());
                checked++;
            }
        }
        assertTrue(checked >= 2, "the evaluator and its data fetch");
    }

    /** The trainer's `d2v train`: checked once the train command is part of the tree, reported as skipped before. */
    @Test
    void trainerArgsAreTheTrainCommandsWhenItExists() {
        Doc trainer = deployment("d2v-trainer");
        JsonNode spec = trainer.node().path("spec");
        assertEquals(1, spec.path("replicas").asInt(), "one trainer per run");
        assertEquals("Recreate", spec.at("/strategy/type").asText(), "never two trainers on one run folder");
        JsonNode c = spec.at("/template/spec/containers/0");
        assertEquals(1, c.at("/resources/limits/nvidia.com~1gpu").asInt(), "the trainer's GPU limit");
        List<String> args = strings(c.path("args"));
        assertEquals("train", args.get(0));
        String out = argValue(args, "--out");
        assertTrue(StreamSupport.stream(c.path("volumeMounts").spliterator(), false)
                .anyMatch(m -> out.startsWith(m.path("mountPath").asText()) && !m.path("readOnly").asBoolean()),
                "--out " + out + " is not on a writable volume");
        Assumptions.assumeTrue(hasCommand("train"), "`d2v train` is not in Main's command tree yet: the trainer's "
                + "arguments " + args + " are unchecked");
        assertParses(args, trainer.toString());
    }

    /** Checkpoint events and run metadata carry the trainer's paths: the evaluator must see the same volumes there. */
    @Test
    void evaluatorMountsTheTrainersPathsFromTheSameVolumes() {
        Doc trainer = deployment("d2v-trainer");
        Doc evaluator = deployment("d2v-evaluator");
        JsonNode t = trainer.node().at("/spec/template/spec/containers/0");
        JsonNode e = evaluator.node().at("/spec/template/spec/containers/0");
        List<String> args = strings(t.path("args"));
        for (String option : List.of("--out", "--vocab")) {
            String path = argValue(args, option);
            assertTrue(path != null, "the trainer passes no " + option);
            JsonNode tm = mountOf(t, path);
            JsonNode em = mountOf(e, path);
            assertTrue(tm != null, trainer + ": " + option + " " + path + " is not on a volume");
            assertTrue(em != null, evaluator + ": does not mount the trainer's " + option + " " + path);
            assertEquals(tm.path("mountPath").asText(), em.path("mountPath").asText(), option + ": mount path");
            assertEquals(volumeSource(trainer, tm), volumeSource(evaluator, em), option + ": the same volume in both");
            assertTrue(em.path("readOnly").asBoolean(), evaluator + ": " + path + " should be read-only");
        }
    }

    static Doc deployment(String name) {
        return k8s("Deployment").stream().filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no Deployment " + name));
    }

    /** The container's mount holding path (the longest mount path that is a folder above it), or null. */
    static JsonNode mountOf(JsonNode container, String path) {
        JsonNode best = null;
        for (JsonNode m : container.path("volumeMounts")) {
            String mp = m.path("mountPath").asText();
            if (path.startsWith(mp + "/") && (best == null || mp.length() > best.path("mountPath").asText().length())) {
                best = m;
            }
        }
        return best;
    }

    /** "pvc:NAME" or "configMap:NAME" (plus the subPath) of a mount's volume. */
    static String volumeSource(Doc d, JsonNode mount) {
        for (JsonNode v : d.node().at("/spec/template/spec/volumes")) {
            if (v.path("name").asText().equals(mount.path("name").asText())) {
                String sub = mount.path("subPath").asText();
                return v.has("persistentVolumeClaim") ? "pvc:" + v.at("/persistentVolumeClaim/claimName").asText() + "/" + sub
                        : "configMap:" + v.at("/configMap/name").asText() + "/" + sub;
            }
        }
        throw new AssertionError(d + ": no volume " + mount.path("name").asText());
    }

    @Test
    void dockerfileEntrypointIsTheCommandLine() {
        String dockerfile = text(root().resolve("deploy/Dockerfile"));
        Matcher m = Pattern.compile("(?m)^ENTRYPOINT\\s+(\\[[^\\]]*])").matcher(dockerfile);
        assertTrue(m.find(), "deploy/Dockerfile has no exec-form ENTRYPOINT");
        List<String> entry = new ArrayList<>();
        Matcher s = Pattern.compile("\"([^\"]*)\"").matcher(m.group(1));
        while (s.find()) {
            entry.add(s.group(1));
        }
        assertEquals("java", entry.get(0));
        assertEquals(Main.class.getName(), entry.get(entry.size() - 1), "the image's entrypoint runs " + Main.class.getName());
        assertMainClass(entry.get(entry.size() - 1), "deploy/Dockerfile");
        assertTrue(dockerfile.contains("eclipse-temurin:17"), "Java 17 base image");
    }

    private static boolean hasCommand(String name) {
        return Main.commandLine().getSubcommands().containsKey(name);
    }

    /** Parses the arguments with a fresh picocli tree: unknown commands or options, bad values and missing required options fail. */
    private static void assertParses(List<String> args, String where) {
        CommandLine cl = Main.commandLine();
        try {
            CommandLine.ParseResult r = cl.parseArgs(args.toArray(String[]::new));
            assertTrue(r.hasSubcommand(), where + ": '" + args.get(0) + "' is not a d2v command; commands: "
                    + cl.getSubcommands().keySet());
        } catch (CommandLine.ParameterException e) {
            fail(where + ": `d2v " + String.join(" ", args) + "`: " + e.getMessage());
        }
    }

    private static String argValue(List<String> args, String option) {
        int i = args.indexOf(option);
        return i < 0 || i + 1 >= args.size() ? null : args.get(i + 1);
    }

    // ---- compose ----

    @Test
    void composeRunsKafkaAndAFlinkSessionCluster() {
        Doc compose = docs().stream().filter(d -> d.file().getFileName().toString().equals("docker-compose.yml")).findFirst()
                .orElseThrow(() -> new AssertionError("no deploy/compose/docker-compose.yml"));
        JsonNode services = compose.node().path("services");
        assertTrue(services.at("/kafka/image").asText().startsWith("apache/kafka:"), "kafka: apache/kafka image");
        assertTrue(services.at("/kafka/environment/KAFKA_PROCESS_ROLES").asText().contains("controller"), "kafka: KRaft");
        assertTrue(services.at("/kafka/environment/KAFKA_TRANSACTION_MAX_TIMEOUT_MS").asLong()
                > PreprocessJobConfig.DEFAULT_TRANSACTION_TIMEOUT_MS, "kafka: transaction.max.timeout.ms");
        for (String s : List.of("jobmanager", "taskmanager")) {
            assertTrue(services.at("/" + s + "/image").asText().startsWith("flink:2.2"), s + ": flink:2.2 image");
            assertEquals(s, services.at("/" + s + "/command").asText(), s + ": command");
        }
        Set<String> mounts = new HashSet<>(strings(services.at("/jobmanager/volumes")));
        assertTrue(mounts.stream().anyMatch(v -> v.startsWith("../../preprocess/flink/target:")), "jobmanager: the job jar is mounted");
        assertTrue(Files.isDirectory(compose.file().getParent().resolve("../../preprocess").normalize()), "mount source");
    }
}
