package dev.d2v.pipelines.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

class StepProfileTest {

    @Test
    void selfTimeIsTheDurationLessTheOperatorsInsideAndTopLevelOnesAreTheJavaCalls() throws Exception {
        // thread 1: linear [0, 100) holding addmm [10, 90) holding a copy [20, 30); then relu [100, 120)
        // thread 2: mul [5, 45)
        String trace = """
                {"traceEvents": [
                  {"ph": "X", "name": "aten::linear", "tid": 1, "ts": 0, "dur": 100},
                  {"ph": "X", "name": "aten::addmm", "tid": 1, "ts": 10, "dur": 80},
                  {"ph": "X", "name": "aten::copy_", "tid": 1, "ts": 20, "dur": 10},
                  {"ph": "X", "name": "aten::relu", "tid": 1, "ts": 100, "dur": 20},
                  {"ph": "X", "name": "aten::mul", "tid": 2, "ts": 5, "dur": 40},
                  {"ph": "i", "name": "a marker", "tid": 1, "ts": 50}
                ]}""";
        StepProfile p = StepProfile.summarise(JsonMapper.builder().build().readTree(trace), 2, 0.5);
        // per step (2 steps): top level linear, relu, mul = 160 us -> 0.08 ms
        assertThat(p.libtorchMsPerStep()).isCloseTo(0.08, within(1e-12));
        assertThat(p.outsideMsPerStep()).isCloseTo(0.42, within(1e-12));
        assertThat(p.topLevelOpsPerStep()).isEqualTo(1.5);
        assertThat(p.opsPerStep()).isEqualTo(2.5);
        assertThat(p.selfMsByKind()).containsEntry("aten::addmm", 0.035).containsEntry("aten::linear", 0.01)
                .containsEntry("aten::copy_", 0.005).containsEntry("aten::mul", 0.02);
        assertThat(p.selfMsByKind().keySet()).startsWith("aten::addmm", "aten::mul");
        assertThat(p.topKinds(1)).containsEntry("aten::addmm", 0.438);   // 70 of 160 us
    }
}
