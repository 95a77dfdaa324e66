package dev.d2v.train.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An append-only JSON-lines file, one object per line, flushed after each line so that a reader (the report, a
 * crash investigation) sees every step written so far. A resumed run appends to what is there.
 */
public final class JsonLinesFile implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;
    private final String what;

    /** @param what the file's role in error messages, e.g. "the metrics file" */
    public JsonLinesFile(Path file, String what) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.what = what;
    }

    public void append(ObjectNode line) {
        try {
            out.write(JSON.writeValueAsString(line));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + what, e);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
