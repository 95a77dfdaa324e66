package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.Modality;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The retained-checkpoint folder on its own: which checkpoint is restored, what the run file says, cleanup. */
class RetainedStateTest {

    @TempDir
    Path tmp;

    @Test
    void theFolderIsNamedAfterThePrefixAndTheModalities() {
        assertThat(RetainedState.of(tmp, "d2v", List.of(Modality.values())).dir()).isEqualTo(tmp.resolve("d2v-all"));
        assertThat(RetainedState.of(tmp, "d2v", List.of(Modality.TEXT)).dir()).isEqualTo(tmp.resolve("d2v-text"));
    }

    @Test
    void newestIsTheLatestCheckpointWithMetadataAndCarriesTheRunFile() throws Exception {
        RetainedState state = new RetainedState(tmp.resolve("s"));
        assertThat(state.newest()).isEmpty();
        Path old = checkpoint(state, "job-a", 7, 1_000);
        Path newer = checkpoint(state, "job-b", 2, 2_000); // a restored job counts anew: the time decides
        Files.createDirectories(state.checkpoints().resolve("job-b").resolve("chk-3")); // cut off: no _metadata
        TopicPartition tp = new TopicPartition("d2v.raw.text", 1);
        state.markRun(true, "cluster-x", Map.of(tp, 42L));

        RetainedState.Checkpoint c = state.newest().orElseThrow();
        assertThat(c.path()).isEqualTo(newer);
        assertThat(c.bounded()).isTrue();
        assertThat(c.clusterId()).isEqualTo("cluster-x");
        assertThat(c.ends()).containsExactly(Map.entry(tp, 42L));

        state.markRun(false, "cluster-y", Map.of());
        assertThat(state.newest().orElseThrow().bounded()).isFalse();

        state.pruneExcept(newer);
        assertThat(old.getParent()).doesNotExist();
        assertThat(newer).isDirectory();
        state.delete();
        assertThat(state.dir()).doesNotExist();
        assertThat(state.newest()).isEmpty();
    }

    private static Path checkpoint(RetainedState state, String job, int n, long mtime) throws Exception {
        Path chk = state.checkpoints().resolve(job).resolve("chk-" + n);
        Files.createDirectories(chk);
        Path meta = Files.writeString(chk.resolve("_metadata"), "m");
        Files.setLastModifiedTime(meta, FileTime.fromMillis(mtime));
        return chk;
    }
}
