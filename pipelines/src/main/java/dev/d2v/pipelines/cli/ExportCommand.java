package dev.d2v.pipelines.cli;

import dev.d2v.export.ExportPackage;
import dev.d2v.infra.Modality;
import dev.d2v.train.checkpoint.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `d2v export --checkpoint DIR --out DIR`: the checkpoint's student encoders as ONNX models in a self-contained
 * package ({@link ExportPackage}).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Exports a checkpoint's student encoders: one ONNX model per modality (opset 17; batch and, for",
                "audio and text, length as symbolic dimensions; outputs per-token features and both pooled readouts),",
                "with model.json (the source checkpoint, the config, the preprocessing settings and their hash, and the",
                "SHA-256 of every file) and the text vocabulary. See export/EXPORT.md."})
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint step folder")
    Path checkpoint;

    @Option(names = "--modality", split = ",", paramLabel = "M",
            description = "image, audio, text (comma-separated; default: every modality the checkpoint trained)")
    List<String> modalities = new ArrayList<>();

    @Option(names = "--format", defaultValue = "onnx", paramLabel = "onnx", description = "Model format (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--int8", description = {"Also write each encoder dynamically quantized to int8 (<modality>.int8.onnx):",
            "weight MatMuls int8 per output column, activations quantized at run time; convolutions, LayerNorm and",
            "softmax fp32"})
    boolean int8;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The package folder (created; files replaced)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!"onnx".equals(format.trim().toLowerCase(Locale.ROOT))) {
            throw new UserError("--format: only onnx is supported (TorchScript cannot be produced from the DJL-built "
                    + "graph; export/EXPORT.md), got '" + format + "'");
        }
        if (!Files.isDirectory(checkpoint)) {
            throw new UserError("--checkpoint " + checkpoint + " is not a folder");
        }
        List<Modality> which = new ArrayList<>();
        for (String m : modalities) {
            try {
                which.add(Modality.parse(m));
            } catch (IllegalArgumentException e) {
                throw new UserError("--modality: " + e.getMessage());
            }
        }
        ExportPackage.Loaded p;
        try {
            p = ExportPackage.fromCheckpoint(checkpoint, which, int8, out, "d2v 0.1.0");
        } catch (CheckpointException e) {
            throw new UserError("--checkpoint: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        for (Modality m : p.modalities()) {
            System.out.printf("%-6s %s (%,d bytes)%n", m.id(), p.model(m), Files.size(p.model(m)));
            if (p.int8Model(m).isPresent()) {
                Path q = p.int8Model(m).get();
                System.out.printf("%-6s %s (%,d bytes, %.2f of fp32)%n", m.id(), q, Files.size(q),
                        (double) Files.size(q) / Files.size(p.model(m)));
            }
        }
        System.out.println("package: " + out.resolve(ExportPackage.MANIFEST) + " (step " + p.step() + ")");
        return 0;
    }
}
