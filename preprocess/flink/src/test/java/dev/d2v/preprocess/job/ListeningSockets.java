package dev.d2v.preprocess.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** The TCP sockets this JVM listens on, from Linux's /proc: which address each is bound to. */
final class ListeningSockets {

    private ListeningSockets() {}

    /** A listening socket: its local address as /proc writes it (hex), and the port. */
    record Socket(String hexAddress, int port) {
        /** 127.0.0.0/8, ::1 or ::ffff:127.x.x.x. */
        boolean loopback() {
            if (hexAddress.length() == 8) {
                return hexAddress.endsWith("7F");   // little-endian IPv4: 0100007F is 127.0.0.1
            }
            return hexAddress.equals("00000000000000000000000001000000")
                    || (hexAddress.startsWith("0000000000000000FFFF0000") && hexAddress.endsWith("7F"));
        }
    }

    /** Listening TCP sockets of this process, or null where /proc is not there (not Linux). */
    static List<Socket> ofThisProcess() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return null;
        }
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> links = Files.list(fds)) {
            for (Path fd : links.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // a descriptor closed while listing
                }
            }
        }
        List<Socket> out = new ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            List<String> lines = Files.readAllLines(p);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                    String[] local = f[1].split(":");
                    out.add(new Socket(local[0], Integer.parseInt(local[1], 16)));
                }
            }
        }
        return out;
    }
}
