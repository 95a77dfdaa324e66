package dev.d2v.preprocess.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import dev.d2v.ingest.RawItem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LocalSourceSampleTest {

    /** 300 items ordered by label: 100 "a", then 100 "b", then 100 "c". */
    private static LocalSource sortedByLabel() {
        List<RawItem> items = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String label = String.valueOf((char) ('a' + i / 100));
            items.add(new RawItem("t-" + i, Modality.TEXT, "text/plain", Optional.of(label), Optional.of("train"), "mem",
                    () -> new byte[0]));
        }
        return new LocalSource("sorted", Modality.TEXT, items, LabelIndex.of(List.of("a", "b", "c")));
    }

    @Test
    void aSampleSpansTheLabelsWhereThePrefixDoesNot() {
        LocalSource s = sortedByLabel();
        assertThat(s.limit(30).items()).allMatch(i -> i.label().orElseThrow().equals("a"));
        LocalSource sample = s.sample(30, 7);
        assertThat(sample.size()).isEqualTo(30);
        assertThat(sample.items()).extracting(i -> i.label().orElseThrow()).contains("a", "b", "c");
        assertThat(sample.items()).extracting(RawItem::id).doesNotHaveDuplicates();
        // kept in source order, and the same seed draws the same items
        List<Integer> idx = sample.items().stream().map(i -> Integer.parseInt(i.id().substring(2))).toList();
        assertThat(idx).isSorted();
        assertThat(s.sample(30, 7).items()).extracting(RawItem::id).containsExactlyElementsOf(
                sample.items().stream().map(RawItem::id).toList());
        assertThat(s.sample(0, 7)).isSameAs(s);
        assertThat(s.sample(500, 7)).isSameAs(s);
    }
}
