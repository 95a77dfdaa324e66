package dev.d2v.ingest.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Test helper: a folder's files (relative path -> bytes), for comparing two fetches. */
final class TreeFiles {
    private TreeFiles() {
    }

    static Map<String, byte[]> read(Path root, boolean withManifest) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = root.relativize(p).toString();
                if (withManifest || !rel.equals(Manifest.FILE)) {
                    out.put(rel, Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }
}
