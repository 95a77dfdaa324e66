package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatasetsTest {

    @Test
    void listsTheDatasetsByUniqueName() {
        assertThat(Datasets.names()).contains("mnist", "fashion-mnist", "wordnet", "austen").doesNotHaveDuplicates();
        assertThat(Datasets.byName("wordnet")).isInstanceOf(WordNet.class);
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        assertThatThrownBy(() -> Datasets.byName("cifar"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown dataset 'cifar'")
                .hasMessageContaining("mnist, fashion-mnist, wordnet, austen");
    }
}
