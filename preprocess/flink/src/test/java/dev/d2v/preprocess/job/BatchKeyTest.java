package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.d2v.infra.config.PipelineConfig;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
    void transformAndBatcherRunChainedInOneTaskAtEveryParallelism() {
        for (int p : new int[] {1, 3}) {
            PreprocessJobConfig c = PreprocessJobConfig.from(PipelineConfig.defaults(),
                    TransformSpec.image(ImageTransformConfig.defaults(), 0)).withParallelism(p);
            StreamExecutionEnvironment env = PreprocessJob.environment(List.of(c));
            PreprocessJob.buildKafka(env, c);
            List<String> vertices = new ArrayList<>();
            env.getStreamGraph().getJobGraph().getVertices().forEach(v -> vertices.add(v.getName()));
            // one task from the Kafka source to the batch sink: no sample crosses a network channel; the dead letters
            // are chained too
            assertThat(vertices).as("parallelism %d", p).hasSize(1);
            assertThat(vertices.get(0)).contains("raw image", "transform image", "batcher image", "batches image",
                    "dead letters image");
        }
    }
}
