package dev.d2v.preprocess.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The job's fetch and producer-batch defaults, under the configuration's client properties. */
class KafkaClientDefaultsTest {

    @Test
    void theJobsDefaultsApplyWhereTheConfigurationSaysNothing() {
        Properties configured = new Properties();
        configured.put("bootstrap.servers", "127.0.0.1:9092");
        Properties fetch = PreprocessJob.withDefaults(PreprocessJob.FETCH_DEFAULTS, configured);
        assertThat(fetch).containsEntry("fetch.min.bytes", "65536").containsEntry("fetch.max.wait.ms", "100")
                .containsEntry("bootstrap.servers", "127.0.0.1:9092");
        Properties produce = PreprocessJob.withDefaults(PreprocessJob.PRODUCE_DEFAULTS, configured);
        assertThat(produce).containsEntry("batch.size", "524288").containsEntry("linger.ms", "20");
    }

    @Test
    void aUsersClientPropertyWinsOverTheJobsDefault() {
        Properties configured = new Properties();
        configured.put("fetch.min.bytes", "1");
        configured.put("linger.ms", "0");
        assertThat(PreprocessJob.withDefaults(PreprocessJob.FETCH_DEFAULTS, configured))
                .containsEntry("fetch.min.bytes", "1").containsEntry("fetch.max.wait.ms", "100");
        assertThat(PreprocessJob.withDefaults(PreprocessJob.PRODUCE_DEFAULTS, configured))
                .containsEntry("linger.ms", "0").containsEntry("batch.size", "524288");
    }
}
