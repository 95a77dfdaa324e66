package dev.d2v.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.d2v.infra.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoint folders under a root, independent of the model classes: parameters arrive as named tensor groups
 * (group -> tensor name -> array, e.g. "student", "teacher", "optimizer") plus a {@link CheckpointManifest}.
 *
 * <pre>
 * &lt;root&gt;/step-000000123/
 *     &lt;group&gt;.safetensors     one per group (SafeTensors format), tensors in name order
 *     manifest.json           CheckpointManifest, listing each group file's size and SHA-256
 *     manifest.sha256         "&lt;sha256 of manifest.json&gt;  manifest.json" (sha256sum -c reads it)
 * &lt;root&gt;/.tmp-step-000000123-*  a write in progress, or one cut off: never listed, removed by prune
 * </pre>
 *
 * <p>A write goes to a temp folder beside the final one, every file forced to disk, the folder forced, then one
 * atomic rename, then the root forced: after a crash a step folder is either complete or absent. A read verifies
 * the manifest checksum, the format version and every file's size and SHA-256 before any tensor is built, and
 * names the file at fault. Single writer per root (the trainer); readers (the evaluator) may run beside it.
 */
public final class CheckpointStore {

    public static final String MANIFEST_SHA = "manifest.sha256";
    public static final String GROUP_SUFFIX = ".safetensors";
    /** Format tag in each group file's {@code __metadata__}. */
    public static final String GROUP_FORMAT = "d2v-checkpoint-group";
    static final String TEMP_PREFIX = ".tmp-";
    private static final Pattern STEP_FOLDER = Pattern.compile("step-(\\d{9,18})");
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9_-]{1,100}");

    private CheckpointStore() {}

    /** A checkpoint folder whose files all verified, and its manifest. */
    public record Verified(Path folder, CheckpointManifest manifest) {

        /**
         * The checkpoint's identity: its folder name and the first 16 hex digits of its manifest file's SHA-256
         * ("step-000001200-3f9a..."). The manifest lists every file's SHA-256 and the time it was written, so two
         * checkpoints that share a folder name (a second run into the same folder) never share an id, and whatever
         * is cached under the id (features, probe results, the follower's state) belongs to these weights only.
         */
        public String id() {
            try {
                return folder.getFileName() + "-" + Digests.sha256Hex(folder.resolve(CheckpointManifest.FILE)).substring(0, 16);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the manifest of " + folder, e);
            }
        }
    }

    /** A verified checkpoint with its tensors, in the manager given to {@link #read}: group -> name -> array. */
    public record Loaded(Path folder, CheckpointManifest manifest, Map<String, Map<String, NDArray>> groups) {}

    /** A step folder that failed verification, and why (the message names the file). */
    public record Rejected(Path folder, String reason) {}

    /** The newest checkpoint that verified (empty when none did) and the newer ones that did not. */
    public record Newest(Optional<Verified> checkpoint, List<Rejected> rejected) {}

    /** A step folder by name (not yet verified). */
    public record Entry(long step, Path folder) {}

    /** "step-000000123": 9 digits, so names sort like steps up to a billion. */
    public static String folderName(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return String.format("step-%09d", step);
    }

    // ---- write ----

    /**
     * Writes {@code <root>/step-<step>/} atomically and returns it with the manifest as stored (files filled in).
     *
     * @param groups group name ([A-Za-z0-9_-]) -> tensor name -> array (F32, F16, I64, I32, U8)
     * @throws CheckpointException when that step's folder already exists
     */
    public static Verified write(Path root, CheckpointManifest manifest, Map<String, Map<String, NDArray>> groups)
            throws IOException {
        for (String g : groups.keySet()) {
            if (!GROUP_NAME.matcher(g).matches()) {
                throw new IllegalArgumentException("group name '" + g + "' must match " + GROUP_NAME.pattern());
            }
        }
        Files.createDirectories(root);
        String name = folderName(manifest.step());
        Path target = root.resolve(name);
        if (Files.exists(target)) {
            throw new CheckpointException(target, "a checkpoint for step " + manifest.step() + " already exists");
        }
        Path tmp = Files.createTempDirectory(root, TEMP_PREFIX + name + "-");
        try {
            Map<String, CheckpointManifest.FileDigest> files = new TreeMap<>();
            for (Map.Entry<String, Map<String, NDArray>> g : new TreeMap<>(groups).entrySet()) {
                String file = g.getKey() + GROUP_SUFFIX;
                Map<String, String> meta = Map.of("format", GROUP_FORMAT, "format_version", "1",
                        "group", g.getKey(), "step", Long.toString(manifest.step()));
                String sha = SafeTensors.write(tmp.resolve(file), g.getValue(), meta);
                files.put(file, new CheckpointManifest.FileDigest(Files.size(tmp.resolve(file)), sha));
            }
            CheckpointManifest stored = manifest.withFiles(files);
            byte[] json = stored.toJson();
            writeSynced(tmp.resolve(CheckpointManifest.FILE), json);
            writeSynced(tmp.resolve(MANIFEST_SHA), (Digests.sha256Hex(json) + "  " + CheckpointManifest.FILE + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            forceFolder(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            forceFolder(root);
            return new Verified(target, stored);
        } catch (IOException | RuntimeException e) {
            FileTrees.delete(tmp);
            if (e instanceof FileAlreadyExistsException) {
                throw new CheckpointException(target, "a checkpoint for step " + manifest.step() + " already exists", e);
            }
            throw e;
        }
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** fsync of a directory, so a rename or a new entry in it survives a crash (Linux allows opening it for read). */
    private static void forceFolder(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some platforms (Windows) cannot open a directory; the rename is still atomic there
            if (System.getProperty("os.name", "").toLowerCase().contains("win")) {
                return;
            }
            throw e;
        }
    }

    // ---- verify and read ----

    /** Checks the manifest and every file it lists (size and SHA-256) without building tensors. */
    public static Verified verify(Path folder) throws CheckpointException {
        if (!Files.isDirectory(folder)) {
            throw new CheckpointException(folder, "not a checkpoint folder (missing or not a directory)");
        }
        CheckpointManifest manifest = readManifest(folder);
        Matcher m = STEP_FOLDER.matcher(folder.getFileName().toString());
        if (m.matches() && Long.parseLong(m.group(1)) != manifest.step()) {
            throw new CheckpointException(folder.resolve(CheckpointManifest.FILE), "manifest says step "
                    + manifest.step() + " but the folder is " + folder.getFileName());
        }
        for (Map.Entry<String, CheckpointManifest.FileDigest> f : manifest.files().entrySet()) {
            checkFile(folder, f.getKey(), f.getValue());
        }
        return new Verified(folder, manifest);
    }

    /**
     * Verifies {@code folder} (see {@link #verify}) and reads every group into {@code manager}.
     * On failure nothing stays allocated in the manager.
     */
    public static Loaded read(Path folder, NDManager manager) throws CheckpointException {
        Verified v = verify(folder);
        Map<String, Map<String, NDArray>> groups = new LinkedHashMap<>();
        try {
            for (String file : v.manifest().files().keySet()) {
                if (!file.endsWith(GROUP_SUFFIX)) {
                    continue;
                }
                Path p = folder.resolve(file);
                try {
                    groups.put(file.substring(0, file.length() - GROUP_SUFFIX.length()),
                            SafeTensors.read(p, manager).tensors());
                } catch (IOException e) {
                    throw new CheckpointException(p, "cannot read tensors: " + e.getMessage(), e);
                }
            }
        } catch (CheckpointException | RuntimeException e) {
            groups.values().forEach(g -> g.values().forEach(NDArray::close));
            throw e;
        }
        return new Loaded(folder, v.manifest(), groups);
    }

    /** The manifest after checking it against manifest.sha256 and its format version. */
    public static CheckpointManifest readManifest(Path folder) throws CheckpointException {
        Path shaFile = folder.resolve(MANIFEST_SHA);
        Path file = folder.resolve(CheckpointManifest.FILE);
        String expected;
        byte[] json;
        try {
            String line = Files.readString(shaFile, StandardCharsets.US_ASCII).trim();
            expected = line.split("\\s+", 2)[0];
        } catch (NoSuchFileException e) {
            throw new CheckpointException(shaFile, "missing (an incomplete or foreign checkpoint folder)", e);
        } catch (IOException e) {
            throw new CheckpointException(shaFile, "unreadable: " + e.getMessage(), e);
        }
        try {
            json = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "missing (an incomplete or foreign checkpoint folder)", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "unreadable: " + e.getMessage(), e);
        }
        if (!expected.matches("[0-9a-f]{64}")) {
            throw new CheckpointException(shaFile, "does not hold a SHA-256 (64 hex digits): '" + expected + "'");
        }
        String actual = Digests.sha256Hex(json);
        if (!actual.equals(expected)) {
            throw new CheckpointException(file, "SHA-256 mismatch: " + MANIFEST_SHA + " says " + expected
                    + ", the file has " + actual + " (corrupt manifest)");
        }
        return CheckpointManifest.fromJson(json, file);
    }

    private static void checkFile(Path folder, String name, CheckpointManifest.FileDigest want)
            throws CheckpointException {
        Path p = folder.resolve(name);
        if (!p.normalize().getParent().equals(folder.normalize())) {
            throw new CheckpointException(folder.resolve(CheckpointManifest.FILE), "lists a file outside the folder: "
                    + name);
        }
        try {
            long size = Files.size(p);
            if (size != want.bytes()) {
                throw new CheckpointException(p, "size " + size + " bytes, the manifest says " + want.bytes()
                        + (size < want.bytes() ? " (truncated)" : ""));
            }
            String sha = Digests.sha256Hex(p);
            if (!sha.equals(want.sha256())) {
                throw new CheckpointException(p, "SHA-256 mismatch: the manifest says " + want.sha256()
                        + ", the file has " + sha + " (corrupt)");
            }
        } catch (NoSuchFileException e) {
            throw new CheckpointException(p, "missing, though the manifest lists it", e);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException(p, "unreadable: " + e.getMessage(), e);
        }
    }

    // ---- list, newest, prune ----

    /** Step folders under {@code root}, newest first, by name only (temp folders and other entries are skipped). */
    public static List<Entry> list(Path root) throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                Matcher m = STEP_FOLDER.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    out.add(new Entry(Long.parseLong(m.group(1)), p));
                }
            }
        }
        out.sort(Comparator.comparingLong(Entry::step).reversed());
        return out;
    }

    /**
     * The newest checkpoint that verifies; newer ones that do not are listed with their reasons (for the log: a
     * corrupt newest checkpoint is reported and the previous one used).
     */
    public static Newest newestValid(Path root) throws IOException {
        List<Rejected> rejected = new ArrayList<>();
        for (Entry e : list(root)) {
            try {
                return new Newest(Optional.of(verify(e.folder())), List.copyOf(rejected));
            } catch (CheckpointException ex) {
                rejected.add(new Rejected(e.folder(), ex.getMessage()));
            }
        }
        return new Newest(Optional.empty(), List.copyOf(rejected));
    }

    /**
     * Deletes the step folders {@code policy} does not keep, and leftover temp folders of cut-off writes. Call it
     * from the writer only (a temp folder may be a write in progress). Returns the deleted folders.
     */
    public static List<Path> prune(Path root, RetentionPolicy policy) throws IOException {
        List<Entry> entries = list(root);
        Set<Long> kept = policy.kept(entries.stream().map(Entry::step).toList());
        List<Path> deleted = new ArrayList<>();
        for (Entry e : entries) {
            if (!kept.contains(e.step())) {
                FileTrees.delete(e.folder());
                deleted.add(e.folder());
            }
        }
        deleted.addAll(deleteTemps(root));
        return deleted;
    }

    /**
     * Makes room for the checkpoint of {@code nextStep} before it is written: deletes the folders that
     * {@code policy} would not keep once that step exists, except the newest one, which stays until the new one is
     * safely written (with keepLast 1 the write needs room for two checkpoints; with keepLast K, K, not K + 1), and
     * leftover temp folders. Returns the deleted folders.
     */
    public static List<Path> pruneBeforeWrite(Path root, RetentionPolicy policy, long nextStep) throws IOException {
        List<Entry> entries = list(root);
        List<Long> steps = new ArrayList<>(entries.stream().map(Entry::step).toList());
        steps.add(nextStep);
        Set<Long> kept = policy.kept(steps);
        long newest = entries.stream().mapToLong(Entry::step).max().orElse(-1);
        List<Path> deleted = new ArrayList<>();
        for (Entry e : entries) {
            if (!kept.contains(e.step()) && e.step() != newest) {
                FileTrees.delete(e.folder());
                deleted.add(e.folder());
            }
        }
        deleted.addAll(deleteTemps(root));
        return deleted;
    }

    private static List<Path> deleteTemps(Path root) throws IOException {
        List<Path> deleted = new ArrayList<>();
        if (Files.isDirectory(root)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, TEMP_PREFIX + "step-*")) {
                for (Path p : ds) {
                    FileTrees.delete(p);
                    deleted.add(p);
                }
            }
        }
        return deleted;
    }
}
