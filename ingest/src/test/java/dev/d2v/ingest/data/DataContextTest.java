package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DataContextTest {
    @Test
    void relativeCacheDirBecomesAbsoluteSoChildProcessesInOtherFoldersFindIt() {
        DataContext ctx = new DataContext(Path.of(".d2v", "data"), 1, 0, null);
        assertThat(ctx.cacheDir()).isAbsolute();
        assertThat(ctx.cacheDir()).isEqualTo(Path.of(System.getProperty("user.dir"), ".d2v", "data"));
        assertThat(ctx.root("mnist")).isEqualTo(ctx.cacheDir().resolve("mnist"));
        assertThat(new DataContext(Path.of("c"), 1, 30, null).root("wordnet").getFileName().toString())
                .isEqualTo("wordnet-limit30");
    }

    @Test
    void negativeLimitIsRefused() {
        assertThatThrownBy(() -> new DataContext(Path.of("c"), 1, -1, null)).hasMessageContaining("limit");
    }
}
