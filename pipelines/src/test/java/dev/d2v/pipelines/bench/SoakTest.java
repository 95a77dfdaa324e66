package dev.d2v.pipelines.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SoakTest {

    @TempDir
    Path dir;

    @Test
    void aStepRetrainedAfterAKillCountsOnceAndACutOffLineIsSkipped() throws Exception {
        Path log = dir.resolve("trained-samples.jsonl");
        Files.writeString(log, String.join("\n",
                "{\"step\":0,\"ids\":[\"a\",\"b\"]}",
                "{\"step\":1,\"ids\":[\"c\",\"d\"]}",
                "{\"step\":2,\"ids\":[\"e\",\"f\"]}",   // trained after the last checkpoint (step 1), then killed
                "{\"step\":2,\"ids\":[\"e\",\"f\"]}",   // the resumed run trains step 2 again
                "{\"step\":3,\"ids\":[\"g\"",            // cut off by a kill -9 while writing
                "{\"step\":3,\"ids\":[\"g\",\"h\"]}", ""));
        Map<Long, List<String>> steps = Soak.stepIds(log);
        assertThat(steps).containsOnlyKeys(0L, 1L, 2L, 3L);
        assertThat(steps.get(2L)).containsExactly("e", "f");
        assertThat(steps.get(3L)).containsExactly("g", "h");
    }
}
