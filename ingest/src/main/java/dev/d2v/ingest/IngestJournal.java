package dev.d2v.ingest;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What ingest has put on the raw topics, so that a rerun after a broker outage or a crash sends each sample id once:
 * one line per record the broker acknowledged ({@code ack <topic> <partition> <offset> <id>}), and at the start of
 * every run the topics' identities and end offsets ({@code topic <topic> <topicId>}, {@code begin <topic>
 * <partition> <offset>}). A rerun skips the ids acknowledged before, and first reads the records written after the
 * last begin marker that no acknowledgement names: those were written though their acknowledgement was lost (the
 * broker went away after the write), so they are journaled and not sent again. A topic deleted and created again
 * has another id, and its lines no longer count.
 *
 * <p>One journal per cluster and topic prefix, under the data cache; ids are sample identities, so a sample
 * ingested from one source is not sent again from another. Thread-safe: acknowledgements arrive on the producer's
 * I/O thread.
 */
public final class IngestJournal implements AutoCloseable {

    private final Path file;
    private final Map<String, Set<String>> acked = new HashMap<>();
    /** topic -> partition -> the offset the newest run began at, before which everything is journaled or older. */
    private final Map<String, Map<Integer, Long>> begin = new HashMap<>();
    private final Map<String, Map<Integer, Long>> lastAcked = new HashMap<>();
    private final BufferedWriter out;

    private IngestJournal(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.toAbsolutePath().getParent());
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * Reads the journal (or starts one) for topics whose current ids are {@code topicIds}: lines of a topic whose id
     * differs (deleted and created again) are dropped.
     */
    public static IngestJournal open(Path file, Map<String, String> topicIds) {
        try {
            Map<String, String> idOf = new HashMap<>();
            List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
            for (String line : lines) {
                String[] f = line.split(" ", 3);
                if (f.length == 3 && f[0].equals("topic")) {
                    idOf.put(f[1], f[2]);
                }
            }
            IngestJournal j = new IngestJournal(file);
            for (String line : lines) {
                String[] f = line.split(" ", 5);
                boolean current = f.length >= 4 && topicIds.containsKey(f[1]) && topicIds.get(f[1]).equals(idOf.get(f[1]));
                if (!current) {
                    continue;
                }
                if (f[0].equals("ack") && f.length == 5) {
                    j.acked.computeIfAbsent(f[1], t -> new HashSet<>()).add(unescape(f[4]));
                    j.lastAcked.computeIfAbsent(f[1], t -> new HashMap<>())
                            .merge(Integer.parseInt(f[2]), Long.parseLong(f[3]), Math::max);
                } else if (f[0].equals("begin")) {
                    j.begin.computeIfAbsent(f[1], t -> new HashMap<>()).put(Integer.parseInt(f[2]), Long.parseLong(f[3]));
                }
            }
            for (Map.Entry<String, String> t : topicIds.entrySet()) {
                if (!t.getValue().equals(idOf.get(t.getKey()))) {
                    j.write("topic " + t.getKey() + " " + t.getValue());
                }
            }
            return j;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or start the ingest journal " + file, e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("the ingest journal " + file + " is damaged (" + e.getMessage() + "): move it"
                    + " aside to ingest without it", e);
        }
    }

    public Path file() {
        return file;
    }

    /** Whether the broker acknowledged this id on this topic before. */
    public synchronized boolean contains(String topic, String id) {
        return acked.getOrDefault(topic, Set.of()).contains(id);
    }

    /**
     * Where the records a previous run may have written without an acknowledgement start, per partition: after its
     * begin marker and after every acknowledged offset. Empty for a topic without a begin marker.
     */
    public synchronized Map<Integer, Long> unconfirmedFrom(String topic) {
        Map<Integer, Long> out = new HashMap<>();
        begin.getOrDefault(topic, Map.of()).forEach((p, o) -> out.put(p,
                Math.max(o, lastAcked.getOrDefault(topic, Map.of()).getOrDefault(p, -1L) + 1)));
        return out;
    }

    /** Marks the start of a run: the partitions' end offsets now. */
    public synchronized void begin(String topic, Map<Integer, Long> endOffsets) {
        endOffsets.forEach((p, o) -> {
            begin.computeIfAbsent(topic, t -> new HashMap<>()).put(p, o);
            write("begin " + topic + " " + p + " " + o);
        });
        flush();
    }

    /** The broker acknowledged the record of id at (topic, partition, offset). */
    public synchronized void acked(String topic, int partition, long offset, String id) {
        acked.computeIfAbsent(topic, t -> new HashSet<>()).add(id);
        lastAcked.computeIfAbsent(topic, t -> new HashMap<>()).merge(partition, offset, Math::max);
        write("ack " + topic + " " + partition + " " + offset + " " + escape(id));
    }

    /** Line breaks and backslashes of an id escaped, so that one id is one line. */
    static String escape(String id) {
        return id.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private void write(String line) {
        try {
            out.write(line);
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the ingest journal " + file, e);
        }
    }

    public synchronized void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the ingest journal " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the ingest journal " + file, e);
        }
    }
}
