package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.preprocess.batch.Sample;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

class BatchKeyTest {

    @Test
    void everyBatcherSubtaskGetsExactlyOneKey() {
        for (int p = 1; p <= 16; p++) {
            int[] keys = PreprocessJob.BatchKey.keysForSubtasks(p, PreprocessJob.MAX_PARALLELISM);
            for (int i = 0; i < p; i++) {
                assertThat(KeyGroupRangeAssignment.assignKeyToParallelOperator(keys[i], PreprocessJob.MAX_PARALLELISM, p))
                        .as("parallelism %d, subtask %d", p, i).isEqualTo(i);
            }
        }
    }

    @Test
    void samplesSpreadEvenlyOverTheBatchers() throws Exception {
        PreprocessJob.BatchKey key = PreprocessJob.BatchKey.forParallelism(4);
        Map<Integer, Integer> perSubtask = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            int k = key.getKey(new Sample("s" + i, new byte[1], 1, -1, 0));
            perSubtask.merge(KeyGroupRangeAssignment.assignKeyToParallelOperator(k, PreprocessJob.MAX_PARALLELISM, 4), 1,
                    Integer::sum);
        }
        assertThat(perSubtask).hasSize(4);
        assertThat(perSubtask.values()).allSatisfy(n -> assertThat(n).isBetween(900, 1100));
        // the key of a sample never changes: a replay goes to the same batcher
        assertThat(key.getKey(new Sample("s7", new byte[1], 1, -1, 0))).isEqualTo(key.getKey(new Sample("s7", new byte[2], 2, 3, 9)));
    }
}
