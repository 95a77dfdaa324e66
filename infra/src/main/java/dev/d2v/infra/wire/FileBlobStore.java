package dev.d2v.infra.wire;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content-addressed blob store in a folder (local disk or a shared mount): reference
 * {@code sha256-<64 hex>}, file {@code <root>/<first 2 hex>/<64 hex>}. Writes go to a temporary file in the
 * same folder and are then renamed, so a reader never sees half a blob; equal content is stored once.
 * Nothing is ever deleted here: retention is the deployment's job (e.g. a cron on file age).
 */
public final class FileBlobStore implements BlobStore {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "sha256-";
    private static final Pattern REF = Pattern.compile("sha256-[0-9a-f]{64}");

    private final String root; // a String, not a Path: Path is not Serializable

    public FileBlobStore(Path root) {
        this.root = root.toAbsolutePath().toString();
    }

    public Path root() {
        return Path.of(root);
    }

    @Override
    public String put(byte[] bytes) {
        String hex = sha256Hex(bytes);
        Path target = pathOf(hex);
        if (Files.exists(target)) {
            return PREFIX + hex;
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), hex, ".tmp");
            try {
                Files.write(tmp, bytes);
                moveIntoPlace(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write blob " + target + ": " + e.getMessage(), e);
        }
        return PREFIX + hex;
    }

    @Override
    public byte[] get(String ref) {
        if (ref == null || !REF.matcher(ref).matches()) {
            throw new WireFormatException("malformed blob reference '" + ref + "': expected sha256-<64 lower-case hex>");
        }
        String hex = ref.substring(PREFIX.length());
        Path file = pathOf(hex);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new WireFormatException("blob " + ref + " not found under " + root
                    + " (deleted by retention, or this process sees a different folder than the writer?)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + file + ": " + e.getMessage(), e);
        }
        String actual = sha256Hex(bytes);
        if (!actual.equals(hex)) {
            throw new WireFormatException("blob " + file + " is corrupt: its content hashes to sha256-" + actual);
        }
        return bytes;
    }

    private Path pathOf(String hex) {
        return Path.of(root, hex.substring(0, 2), hex);
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // another writer stored the same content first: same bytes, nothing to do
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "FileBlobStore[" + root + "]";
    }
}
