package dev.d2v.evaluate.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/** File helpers shared by the evaluation stage: atomic replacement and safe file names. */
public final class AtomicFiles {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]{1,80}");

    private AtomicFiles() {
    }

    /**
     * Replaces {@code file} with {@code bytes} atomically: a temporary file in the same folder, then a rename, so
     * that a reader (a browser reloading the report, a restarted evaluator) sees the old or the new file, never half.
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + file.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.write(tmp, bytes);
            move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void write(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Renames {@code from} over {@code to}, atomically where the file system can. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * A name (checkpoint id, task) as one file or folder name: unchanged when it is short and uses only
     * [A-Za-z0-9._-] (and is not "." or ".."), else its safe characters plus the CRC32C of the whole name, so that
     * distinct names stay distinct and no name leaves its folder.
     */
    public static String safeName(String name) {
        if (SAFE.matcher(name).matches() && !name.equals(".") && !name.equals("..")) {
            return name;
        }
        CRC32C crc = new CRC32C();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        String cleaned = name.replaceAll("[^A-Za-z0-9._-]", "_");
        cleaned = cleaned.substring(0, Math.min(40, cleaned.length())).replaceAll("^\\.+", "_");
        return cleaned + "-" + String.format("%08x", crc.getValue());
    }
}
