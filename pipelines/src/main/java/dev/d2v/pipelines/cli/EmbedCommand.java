package dev.d2v.pipelines.cli;

import dev.d2v.export.Embedder;
import dev.d2v.export.ExportPackage;
import dev.d2v.export.OnnxEncoder;
import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `d2v embed --model EXPORT_DIR --input DIR|FILE.jsonl --out FILE`: features of raw inputs from an exported encoder. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embeds a folder of images or WAVs, or a JSONL file of texts (\"text\" and optional \"id\" per",
                "line), with an exported encoder (./d2v export): the package's own preprocessing, then ONNX Runtime.",
                "Writes FILE.npy (float32 rows, ids in FILE.npy.ids.txt) or FILE.jsonl ({\"id\", \"embedding\"}).",
                "Inputs that cannot be used are skipped and counted with their reason. See export/EXPORT.md."})
public final class EmbedCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "An export package (./d2v export --out DIR)")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "DIR|FILE.jsonl", description = "Images or WAVs (any folder), or a JSONL of texts")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "FILE.npy or FILE.jsonl")
    Path out;

    @Option(names = "--modality", paramLabel = "M",
            description = "image, audio or text (default: the package's only modality, else the inputs' most common)")
    String modality;

    @Option(names = "--readout", defaultValue = "layers", paramLabel = "layers|last",
            description = {"layers: the pooled local encoder and top blocks (what the evaluation's linear probe reads);",
                    "last: the last block's mean alone (default: ${DEFAULT-VALUE})"})
    String readout;

    @Option(names = "--tokens", description = "Also write each input's per-token features (.jsonl only)")
    boolean tokens;

    @Option(names = "--int8", description = "Use the package's int8 model (export --int8)")
    boolean int8;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Inputs per call (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "ONNX Runtime threads (default: 0, one per core)")
    int threads;

    @Override
    public Integer call() throws Exception {
        ExportPackage.Loaded pkg;
        try {
            pkg = ExportPackage.load(model);
        } catch (IOException e) {
            throw new UserError("--model: " + e.getMessage(), e);
        }
        if (!Files.exists(input)) {
            throw new UserError("--input " + input + " does not exist");
        }
        Modality m = which(pkg);
        Readout r;
        try {
            r = Readout.parse(readout);
        } catch (IllegalArgumentException e) {
            throw new UserError("--readout: " + e.getMessage());
        }
        Embedder.Summary s;
        try (OnnxEncoder encoder = OnnxEncoder.load(model, m, OnnxEncoder.Options.defaults().withInt8(int8).withThreads(threads))) {
            s = Embedder.run(encoder, input, new Embedder.Options(r, tokens, batchSize), out);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        System.out.printf("embedded %,d %s inputs (%d features each) into %s%s%n", s.embedded(), m.id(), s.dims(), s.out(),
                s.ids() == null ? "" : " (ids: " + s.ids() + ")");
        LocalBatches.Stats skipped = s.skipped();
        if (skipped.skipped() > 0) {
            System.out.printf("skipped %,d: %s%n", skipped.skipped(), skipped.byReason());
            for (LocalBatches.Skip k : skipped.examples()) {
                System.out.printf("  %s (%s): %s%n", k.sampleId(), k.reason(), k.message());
            }
        }
        return 0;
    }

    private Modality which(ExportPackage.Loaded pkg) {
        if (modality != null) {
            try {
                Modality m = Modality.parse(modality);
                pkg.model(m);   // refuses one the package lacks
                return m;
            } catch (IllegalArgumentException e) {
                throw new UserError("--modality: " + e.getMessage());
            }
        }
        if (pkg.modalities().size() == 1) {
            return pkg.modalities().get(0);
        }
        throw new UserError("the package has " + pkg.modalities() + ": say which with --modality");
    }
}
