package dev.d2v.pipelines.bench;

import ai.djl.Device;
import dev.d2v.evaluate.CheckpointEvaluation;
import dev.d2v.evaluate.encoder.Encoder;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.export.ExportPackage;
import dev.d2v.export.OnnxEncoder;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.ProbeTask;
import dev.d2v.train.model.Data2VecModel;
import dev.d2v.train.model.Readout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A distilled student against its teacher: encoder parameters, ONNX model size, and the speed of a forward pass at
 * batch 1 and 64 on one thread, in DJL and in ONNX Runtime (fp32), the four timed in turn round after round so that a
 * change of load hits all of them. Probe accuracy is {@code ./d2v evaluate}'s.
 */
public final class DistillBench {

    /**
     * @param teacher   the teacher checkpoint folder
     * @param student   the student checkpoint folder ({@code ./d2v distill})
     * @param task      a probe task of the distilled modality; its test split is the input timed
     * @param rounds    timed calls per model, engine and batch size
     * @param batches   the batch sizes timed (at most 64)
     */
    public record Options(Path teacher, Path student, String task, int rounds, List<Integer> batches, Path workDir) {}

    private DistillBench() {}

    public static void run(Options o, DataContext data, Consumer<BenchResult> sink, Consumer<String> log) throws Exception {
        CheckpointEvaluation evaluation = new CheckpointEvaluation(data, new FeatureCache(o.workDir().resolve("unused")),
                new CheckpointEvaluation.Options(List.of(o.task()), 64, 64, 64, 7, Device.cpu(),
                        FrozenFeatureProbes.Config.defaults().withThreads(1), null), log);
        ProbeTask task = evaluation.probeTask(o.student(), o.task());
        Modality m = task.modality();
        ExportPackage.Loaded teacherPkg = ExportPackage.fromCheckpoint(o.teacher(), List.of(m),
                o.workDir().resolve("teacher"), "bench");
        ExportPackage.Loaded studentPkg = ExportPackage.fromCheckpoint(o.student(), List.of(m),
                o.workDir().resolve("student"), "bench");
        Map<String, Object> common = new LinkedHashMap<>();
        common.put("modality", m.id());
        common.put("task", task.name());
        common.putAll(EvalBench.CpuInfo.read().params());

        OnnxEncoder.Options one = OnnxEncoder.Options.defaults().withThreads(1);
        try (Encoder teacherDjl = Encoder.fromCheckpoint(o.teacher(), Device.cpu());
             Encoder studentDjl = Encoder.fromCheckpoint(o.student(), Device.cpu());
             OnnxEncoder teacherOrt = OnnxEncoder.load(o.workDir().resolve("teacher"), m, one);
             OnnxEncoder studentOrt = OnnxEncoder.load(o.workDir().resolve("student"), m, one)) {
            long tp = new Data2VecModel(teacherDjl.config()).encoderParameters(teacherDjl.parameters(), m);
            long sp = new Data2VecModel(studentDjl.config()).encoderParameters(studentDjl.parameters(), m);
            sink.accept(ExportBench.result("student_parameter_ratio", (double) sp / tp, "ratio", common,
                    Map.of("student_parameters", sp, "teacher_parameters", tp,
                            "student_dim", studentDjl.dim(), "teacher_dim", teacherDjl.dim(),
                            "student_depth", studentDjl.config().model().depth(),
                            "teacher_depth", teacherDjl.config().model().depth())));
            long tBytes = Files.size(teacherPkg.model(m));
            long sBytes = Files.size(studentPkg.model(m));
            sink.accept(ExportBench.result("student_onnx_size_ratio", (double) sBytes / tBytes, "ratio", common,
                    Map.of("student_bytes", sBytes, "teacher_bytes", tBytes)));
            for (int batch : o.batches()) {
                List<Minibatch> input = List.of(ExportBench.slice(task.test(), batch));
                double[][] t = new double[4][o.rounds()];
                Call[] calls = {
                        () -> teacherDjl.features(m, input, Readout.LAST, () -> { }),
                        () -> studentDjl.features(m, input, Readout.LAST, () -> { }),
                        () -> teacherOrt.encode(input.get(0)),
                        () -> studentOrt.encode(input.get(0))};
                for (Call c : calls) {
                    c.run();   // warm-up
                }
                for (int r = 0; r < o.rounds(); r++) {
                    for (int k = 0; k < calls.length; k++) {
                        long t0 = System.nanoTime();
                        calls[k].run();
                        t[k][r] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                double[] med = new double[4];
                for (int k = 0; k < 4; k++) {
                    med[k] = ExportBench.median(t[k]);
                }
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("batch", batch);
                p.put("threads", 1);
                p.put("rounds", o.rounds());
                p.put("teacher_djl_ms_median", med[0]);
                p.put("student_djl_ms_median", med[1]);
                p.put("teacher_ort_ms_median", med[2]);
                p.put("student_ort_ms_median", med[3]);
                sink.accept(ExportBench.result("student_vs_teacher_speedup_djl", med[0] / med[1], "x", common, p));
                sink.accept(ExportBench.result("student_vs_teacher_speedup_onnx", med[2] / med[3], "x", common, p));
                log.accept(String.format("batch %d: teacher DJL %.2f ms, student DJL %.2f ms, teacher ONNX %.2f ms, "
                        + "student ONNX %.2f ms (medians of %d)", batch, med[0], med[1], med[2], med[3], o.rounds()));
            }
        }
    }

    /** One timed forward pass. */
    private interface Call {
        void run() throws Exception;
    }
}
