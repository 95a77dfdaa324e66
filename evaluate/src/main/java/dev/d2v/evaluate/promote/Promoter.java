package dev.d2v.evaluate.promote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.infra.wire.EvalResult.Protocol;
import dev.d2v.infra.wire.PromotionEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * In a continuous run the newest checkpoint is not always the best. The promoter keeps, per modality, the best
 * checkpoint so far by one metric (a probe task and protocol), and promotes a new one only when it beats the best by
 * at least {@link Policy#minGain}. A promotion is recorded in {@value #STATE} (beside the evaluator's results, so a
 * restarted evaluator knows the best so far), becomes a {@link PromotionEvent}, and, with an export root, is exported
 * as a package into {@code <root>/<modality>/<checkpoint id>} and made {@code <root>/<modality>/current}:
 * <ul>
 *   <li>the package is written into a staging folder and renamed into place when complete;</li>
 *   <li>{@code current} and {@code previous} are symbolic links, each replaced by renaming a new link over it (an
 *       atomic rename), so that a reader of {@code current} sees the old package or the new one, never half of one;</li>
 *   <li>the package before is kept as {@code previous}; older ones are deleted.</li>
 * </ul>
 */
public final class Promoter {

    public static final String STATE = "promotion.json";
    public static final String CURRENT = "current";
    public static final String PREVIOUS = "previous";

    /** Writes a complete export package of modality m's encoder of the checkpoint into folder. */
    @FunctionalInterface
    public interface Exporter {
        void export(Path checkpoint, Modality m, Path folder) throws Exception;
    }

    /**
     * @param task       the probe task of the metric
     * @param protocol   its protocol
     * @param minGain    accuracy (in [0, 1]) a checkpoint must add over the best so far to be promoted
     * @param exportRoot where promoted packages go; null: record and announce promotions only
     */
    public record Policy(String task, Protocol protocol, double minGain, Path exportRoot) {
        public Policy {
            if (task == null || task.isBlank()) {
                throw new IllegalArgumentException("a promotion metric needs a task");
            }
            if (protocol == null) {
                throw new IllegalArgumentException("a promotion metric needs a protocol");
            }
            if (!(minGain >= 0 && minGain < 1)) {
                throw new IllegalArgumentException("the minimum gain is an accuracy difference in [0, 1), got " + minGain);
            }
        }

        /** "TASK:PROTOCOL", e.g. "fashion-mnist:linear" or "wordnet:knn". */
        public static Policy parse(String metric, double minGain, Path exportRoot) {
            int colon = metric.lastIndexOf(':');
            if (colon <= 0 || colon == metric.length() - 1) {
                throw new IllegalArgumentException("a promotion metric is TASK:PROTOCOL (e.g. fashion-mnist:linear), got '"
                        + metric + "'");
            }
            return new Policy(metric.substring(0, colon), Protocol.parse(metric.substring(colon + 1).toLowerCase(Locale.ROOT)),
                    minGain, exportRoot);
        }
    }

    /** The best checkpoint of a modality so far. */
    public record Best(String checkpointId, long step, String location, double accuracy, String exportPackage) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Policy policy;
    private final Path stateFile;
    private final Exporter exporter;
    private final Consumer<String> log;
    private final Map<Modality, Best> best = new EnumMap<>(Modality.class);

    /** Reads the best so far from stateDir/{@value #STATE}, if there is one. */
    public Promoter(Policy policy, Path stateDir, Exporter exporter, Consumer<String> log) throws IOException {
        this.policy = policy;
        this.stateFile = stateDir.resolve(STATE);
        this.exporter = exporter;
        this.log = log;
        if (policy.exportRoot() != null && exporter == null) {
            throw new IllegalArgumentException("an export root needs an exporter");
        }
        if (Files.exists(stateFile)) {
            JsonNode n = JSON.readTree(stateFile.toFile());
            String metric = policy.task() + ":" + policy.protocol().id();
            if (!metric.equals(n.path("metric").asText())) {
                log.accept("promotion: " + stateFile + " ranked by " + n.path("metric").asText() + ", now " + metric
                        + ": starting over");
                return;
            }
            n.path("modalities").fields().forEachRemaining(e -> {
                JsonNode b = e.getValue();
                best.put(Modality.parse(e.getKey()), new Best(b.path("checkpoint").asText(), b.path("step").asLong(),
                        b.path("location").asText(), b.path("accuracy").asDouble(),
                        b.path("package").isNull() || b.path("package").isMissingNode() ? null : b.path("package").asText()));
            });
        }
    }

    public Policy policy() {
        return policy;
    }

    /** The best checkpoint of each modality so far. */
    public Map<Modality, Best> best() {
        return Map.copyOf(best);
    }

    /**
     * Considers one checkpoint's results: every modality whose result on the metric beats its best so far by the
     * minimum gain (or has none yet) is promoted.
     *
     * @return the promotions, in modality order (empty when none)
     */
    public List<PromotionEvent> consider(Path checkpoint, List<EvalResult> results) throws Exception {
        List<PromotionEvent> events = new ArrayList<>();
        for (EvalResult r : results) {
            if (!r.task().equals(policy.task()) || r.protocol() != policy.protocol()) {
                continue;
            }
            Best before = best.get(r.modality());
            if (before != null && r.accuracy() < before.accuracy() + policy.minGain()) {
                log.accept(String.format("%s %s: %.2f%% at step %d does not beat the promoted %.2f%% (step %d) by %.2f points",
                        r.modality().id(), r.checkpoint(), 100 * r.accuracy(), r.step(), 100 * before.accuracy(),
                        before.step(), 100 * policy.minGain()));
                continue;
            }
            String pkg = null;
            if (policy.exportRoot() != null) {
                pkg = exportAndSwitch(checkpoint, r.modality(), r.checkpoint()).toString();
            }
            Best now = new Best(r.checkpoint(), r.step(), checkpoint.toAbsolutePath().normalize().toString(), r.accuracy(), pkg);
            best.put(r.modality(), now);
            saveState();
            events.add(new PromotionEvent(r.modality(), r.checkpoint(), r.step(), now.location(), r.task(), r.protocol(),
                    r.accuracy(), before == null ? null : before.checkpointId(),
                    before == null ? Double.NaN : before.accuracy(), pkg, Instant.now()));
            log.accept(String.format("%s: promoted %s (step %d, %s %s %.2f%%%s)%s", r.modality().id(), r.checkpoint(),
                    r.step(), r.task(), r.protocol().id(), 100 * r.accuracy(),
                    before == null ? ", the first" : String.format(", was %.2f%%", 100 * before.accuracy()),
                    pkg == null ? "" : "; package " + pkg));
        }
        return events;
    }

    /** Exports into a staging folder, renames it into place, then points current (and previous) at it. */
    private Path exportAndSwitch(Path checkpoint, Modality m, String checkpointId) throws Exception {
        Path dir = policy.exportRoot().toAbsolutePath().resolve(m.id());
        Files.createDirectories(dir);
        String name = checkpointId.replaceAll("[^A-Za-z0-9._-]", "_");
        Path staging = dir.resolve("." + name + ".staging");
        Path target = dir.resolve(name);
        FileTrees.delete(staging);
        exporter.export(checkpoint, m, staging);
        FileTrees.delete(target);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        Path current = dir.resolve(CURRENT);
        Path old = Files.isSymbolicLink(current) ? Files.readSymbolicLink(current) : null;
        relink(dir, CURRENT, Path.of(name));
        if (old != null && !old.equals(Path.of(name))) {
            relink(dir, PREVIOUS, old);
        }
        // keep the current and the previous package only
        Path previous = Files.isSymbolicLink(dir.resolve(PREVIOUS)) ? Files.readSymbolicLink(dir.resolve(PREVIOUS)) : null;
        Set<String> keep = new HashSet<>(List.of(CURRENT, PREVIOUS, name));
        if (previous != null) {
            keep.add(previous.toString());
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                String n = p.getFileName().toString();
                if (!keep.contains(n) && !n.startsWith(".") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    FileTrees.delete(p);
                }
            }
        }
        return target;
    }

    /** dir/link -> target (relative), replaced by renaming a new link over the old one. */
    private static void relink(Path dir, String link, Path target) throws IOException {
        Path tmp = dir.resolve("." + link + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, dir.resolve(link), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void saveState() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        root.put("metric", policy.task() + ":" + policy.protocol().id());
        root.put("min_gain", policy.minGain());
        ObjectNode mods = root.putObject("modalities");
        best.forEach((m, b) -> {
            ObjectNode n = mods.putObject(m.id());
            n.put("checkpoint", b.checkpointId());
            n.put("step", b.step());
            n.put("location", b.location());
            n.put("accuracy", b.accuracy());
            if (b.exportPackage() == null) {
                n.putNull("package");
            } else {
                n.put("package", b.exportPackage());
            }
        });
        Files.createDirectories(stateFile.getParent());
        Path tmp = stateFile.resolveSibling(STATE + ".tmp");
        JSON.writeValue(tmp.toFile(), root);
        Files.move(tmp, stateFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
