package dev.d2v.infra;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files readable by their owner only (0600, folders 0700, where the file system has POSIX permissions): anything
 * that holds or may hold a credential, such as a configuration with client properties or a broker's key stores.
 */
public final class PrivateFiles {

    private PrivateFiles() {}

    /** Something that writes a file's content. */
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces file with content, created owner-only before the first byte is written. */
    public static void write(Path file, Content content) throws IOException {
        Files.deleteIfExists(file);
        if (posix(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            content.writeTo(out);
        }
    }

    public static void writeString(Path file, String text) throws IOException {
        write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Creates dir (and its parents) and makes it owner-only. */
    public static void createDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        restrict(dir);
    }

    /** Makes an existing file or folder owner-only. */
    public static void restrict(Path p) throws IOException {
        if (posix(p)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------" : "rw-------"));
        }
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
