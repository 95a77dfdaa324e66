package dev.d2v.train.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.train.step.StepResult;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One JSON object per optimizer step, appended to a file (metrics.jsonl): step, modality, loss, cls_loss, pooled_loss,
 * lr, tau, grad_norm, target_std, target_position_share, prediction_std, batch, applied, step_ms, samples_per_s, time
 * (epoch ms). A resumed run appends; readers take the last line per step.
 */
public final class StepMetricsFile implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final JsonLinesFile out;

    public StepMetricsFile(Path file) throws IOException {
        this.out = new JsonLinesFile(file, "the metrics file");
    }

    /** The JSON line for one step. */
    public static ObjectNode line(StepResult r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", r.step());
        o.put("modality", r.modality().id());
        o.put("loss", r.loss());
        o.put("cls_loss", r.clsLoss());
        o.put("pooled_loss", r.pooledLoss());
        o.put("lr", r.lr());
        o.put("tau", r.tau());
        o.put("grad_norm", r.gradNorm());
        o.put("target_std", r.targetStd());
        o.put("target_position_share", r.targetPositionShare());
        o.put("prediction_std", r.predictionStd());
        o.put("batch", r.samples());
        o.put("applied", r.applied());
        o.put("step_ms", r.nanos() / 1e6);
        o.put("samples_per_s", r.samples() / (r.nanos() / 1e9));
        o.put("time", System.currentTimeMillis());
        return o;
    }

    public void write(StepResult r) {
        write(line(r));
    }

    /** Appends one line as it is ({@link #line} plus a caller's fields, e.g. the continuous trainer's). */
    public void write(ObjectNode line) {
        out.append(line);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
