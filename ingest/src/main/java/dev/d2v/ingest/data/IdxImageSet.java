package dev.d2v.ingest.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Writes one split of an IDX image set (images [n, h, w] plus labels [n]) as
 * {@code <root>/<split>/<label name>/<index>.png}, index zero-padded to 5 digits (MNIST's 60000 fits).
 */
final class IdxImageSet {
    private IdxImageSet() {
    }

    /** File name of sample {@code index}: "00017.png". */
    static String fileName(int index) {
        return String.format("%05d.png", index);
    }

    /**
     * Writes the first {@code limit} samples (0 = all) of the split; returns how many were written.
     * Parallel over samples: each PNG is independent and its bytes depend on its pixels only.
     */
    static int write(Path root, String split, Idx images, Idx labels, List<String> labelNames, int limit)
            throws IOException {
        if (images.dims().length != 3 || labels.dims().length != 1 || images.count() != labels.count()) {
            throw new IOException("IDX " + split + " images/labels do not match: images "
                    + Arrays.toString(images.dims()) + ", labels " + Arrays.toString(labels.dims()));
        }
        int n = limit == 0 ? images.count() : Math.min(limit, images.count());
        int height = images.dims()[1];
        int width = images.dims()[2];
        Path splitDir = root.resolve(split);
        for (String name : labelNames) {
            Files.createDirectories(splitDir.resolve(name));
        }
        try {
            IntStream.range(0, n).parallel().forEach(i -> {
                int label = labels.label(i);
                if (label >= labelNames.size()) {
                    throw new IllegalStateException(split + " sample " + i + " has label " + label
                            + " outside 0.." + (labelNames.size() - 1));
                }
                byte[] png = GrayPng.encode(images.item(i), width, height);
                try {
                    Files.write(splitDir.resolve(labelNames.get(label)).resolve(fileName(i)), png);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return n;
    }
}
