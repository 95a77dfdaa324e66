package dev.d2v.pipelines.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.d2v.infra.Modality;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.step.StepResult;
import dev.d2v.train.step.SyntheticBatches;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainBenchTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void quickRunOnTheTinyConfigPrintsEveryStableNameFinitePositive() throws Exception {
        Data2VecConfig tiny = TinyConfigs.tiny();
        TrainBench.Options o = new TrainBench.Options("tiny", tiny, 4, 1, 2, true, 128, 1, 60, 1);
        List<String> lines = new ArrayList<>();
        TrainBench.run(o, r -> lines.add(r.json()), s -> { });
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : lines) {
            assertThat(line).doesNotContain("\n");
            parsed.add(JSON.readTree(line));
        }
        for (String name : TrainBench.STABLE_NAMES) {
            List<JsonNode> hits = parsed.stream().filter(n -> n.get("name").asText().equals(name)).toList();
            assertThat(hits).as(name).isNotEmpty();
            for (JsonNode n : hits) {
                assertThat(n.get("value").isNumber()).as(name).isTrue();
                double v = n.get("value").asDouble();
                assertThat(Double.isFinite(v) && v > 0).as(name + " = " + v).isTrue();
                assertThat(n.get("unit").asText()).as(name).isNotBlank();
            }
        }
        assertThat(parsed.stream().filter(n -> n.get("name").asText().equals("inverse_mask_speedup"))
                .map(n -> n.get("mask_ratio").asDouble()).toList()).containsExactly(0.8, 0.6);
        assertThat(parsed.stream().filter(n -> n.get("name").asText().equals("train_samples_per_s"))
                .map(n -> n.get("modality").asText()).toList()).containsExactly("image", "audio", "text");
        JsonNode reuse = parsed.stream().filter(n -> n.get("name").asText().equals("multimask_teacher_reuse_cost_ratio"))
                .findFirst().orElseThrow();
        assertThat(reuse.get("multi_mask").asInt()).isEqualTo(8);
        JsonNode fraction = parsed.stream().filter(n -> n.get("name").asText().equals("cpu_peak_fraction")).findFirst().orElseThrow();
        assertThat(fraction.get("peak_derivation").asText()).contains("FLOPs/cycle");
        assertThat(fraction.get("peak_gflops").asDouble()).isPositive();
        JsonNode profile = parsed.stream().filter(n -> n.get("name").asText().equals("train_step_libtorch_share"))
                .findFirst().orElseThrow();
        assertThat(profile.get("value").asDouble()).isBetween(0.01, 1.0);
        assertThat(profile.get("java_calls_per_step").asDouble()).isGreaterThan(10);
        assertThat(profile.get("ops_per_step").asDouble()).isGreaterThanOrEqualTo(profile.get("java_calls_per_step").asDouble());
        assertThat(profile.get("top_ops_self_share").size()).isEqualTo(TrainBench.TOP_OPS);
    }

    @Test
    void maskTokenVariantTrainsAMaskEmbeddingThatTheTeacherLacks() {
        Data2VecConfig c = TrainBench.single(TinyConfigs.tiny(), Modality.IMAGE);
        String name = MaskTokenStudent.maskEmbeddingName(Modality.IMAGE);
        try (Trainer t = new Trainer(c, Device.cpu(), 3, new MaskTokenStudent())) {
            float[] before = t.student().get(name).toFloatArray();
            t.step(SyntheticBatches.image(4, 1, 8, 5));                        // step 0: lr 0 (warmup)
            StepResult r = t.step(SyntheticBatches.image(4, 1, 8, 6));
            assertThat(r.applied()).isTrue();
            assertThat(Double.isFinite(r.loss())).isTrue();
            assertThat(t.student().get(name).toFloatArray()).isNotEqualTo(before);
            assertThat(t.teacher().has(name)).isFalse();
        }
    }

    @Test
    void teacherPerCloneGivesTheSameLossAsTheTeacherOnce() {
        Data2VecConfig c = TrainBench.single(TinyConfigs.tiny(), Modality.AUDIO);
        try (Trainer once = new Trainer(c, Device.cpu(), 3);
             Trainer each = new Trainer(c, Device.cpu(), 3, new TeacherPerClone())) {
            for (int s = 0; s < 2; s++) {
                var b = SyntheticBatches.audio(3, 24, 16, s);
                assertThat(each.step(b).loss()).isCloseTo(once.step(b).loss(), within(1e-5));
            }
        }
    }

    @Test
    void cpuPeakFromCpuinfo() {
        String avx512 = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\ncpu MHz\t\t: 3900.000\n"
                + "flags\t\t: fpu sse avx2 fma avx512f avx512bw\n";
        CpuPeak p = CpuPeak.parse(avx512, 4);
        assertThat(p.gflops()).isCloseTo(4 * 2.1 * 64, within(1e-9));
        String epyc = "model name\t: AMD EPYC\ncpu MHz\t\t: 2445.422\nflags\t\t: fpu avx fma avx2\n"
                + "model name\t: AMD EPYC\ncpu MHz\t\t: 2445.422\nflags\t\t: fpu avx fma avx2\n";
        CpuPeak q = CpuPeak.parse(epyc, 2);
        assertThat(q.flopsPerCycle()).isEqualTo(32);
        assertThat(q.gflops()).isCloseTo(2 * 2.445422 * 32, within(1e-9));
        assertThat(q.derivation()).contains("avx2+fma").contains("cpu MHz");
        assertThat(CpuPeak.parse("flags\t: fpu sse sse2 avx\n", 1).flopsPerCycle()).isEqualTo(16);
        assertThat(CpuPeak.bf16Flags("flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile avx2\n"))
                .isEqualTo("avx512_bf16 amx_bf16 amx_tile");
        assertThat(CpuPeak.bf16Flags(epyc)).isEqualTo("none");
        assertThat(CpuPeak.bf16Flags("model name\t: x\n")).isEqualTo("unknown");
    }

    @Test
    void flopsOfABlockByHand() {
        // n 2, l 3, d 4, f 8: per token 8*16 + 4*4*8 + 4*3*4 = 128 + 128 + 48 = 304; x 6 tokens
        assertThat(StepFlops.block(2, 3, 4, 8)).isEqualTo(6 * 304.0);
        Data2VecConfig c = Data2VecConfig.cpu();
        // fewer visible tokens, fewer FLOPs; the teacher per clone costs more
        assertThat(StepFlops.perStep(c, Modality.IMAGE, 8, false, false))
                .isLessThan(StepFlops.perStep(c, Modality.IMAGE, 8, true, false))
                .isLessThan(StepFlops.perStep(c, Modality.IMAGE, 8, true, true));
    }

    @Test
    void medianAndJsonLine() {
        assertThat(Timing.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(Timing.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
        String line = new BenchResult("x", 1.234567, "s", Map.of("preset", "cpu")).json();
        assertThat(line).isEqualTo("{\"name\":\"x\",\"value\":1.235,\"unit\":\"s\",\"preset\":\"cpu\"}");
    }
}
