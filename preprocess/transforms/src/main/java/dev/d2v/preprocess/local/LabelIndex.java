package dev.d2v.preprocess.local;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Label name to class id: the distinct names sorted (String order), id = position. The same set of names always
 * gives the same ids, whichever split or order they were seen in ("10" sorts before "2": ids follow names, not
 * numbers).
 */
public record LabelIndex(List<String> names) {

    public LabelIndex {
        names = List.copyOf(new TreeSet<>(names));
    }

    public static LabelIndex of(Collection<String> labels) {
        return new LabelIndex(List.copyOf(new TreeSet<>(labels)));
    }

    /** The class id of {@code label}, or -1 for no label or a name outside the index. */
    public int index(Optional<String> label) {
        if (label.isEmpty()) {
            return -1;
        }
        int i = Collections.binarySearch(names, label.get());
        return i >= 0 ? i : -1;
    }

    public int size() {
        return names.size();
    }

    public boolean isEmpty() {
        return names.isEmpty();
    }
}
