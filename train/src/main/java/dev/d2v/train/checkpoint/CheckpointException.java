package dev.d2v.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint that cannot be used: a checksum mismatch, a missing or truncated file, an unreadable or
 * unknown-version manifest. {@link #file()} names the file at fault (or the folder when the whole folder is).
 */
public final class CheckpointException extends IOException {

    private final Path file;

    public CheckpointException(Path file, String message) {
        this(file, message, null);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file (or folder) that is corrupt, missing or unreadable. */
    public Path file() {
        return file;
    }
}
