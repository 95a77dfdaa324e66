package dev.d2v.export;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.d2v.infra.Modality;
import dev.d2v.infra.progress.Progress;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.preprocess.local.LocalBatches;
import dev.d2v.preprocess.local.LocalSource;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.model.Readout;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Embeds a folder of images or WAVs, or a JSONL file of texts ({@code {"id": ..., "text": ...}} per line), with an
 * exported encoder: the inputs go through the package's own preprocessing (the training transforms in evaluation
 * mode: centre crop, no augmentation) in batches, then {@link OnnxEncoder}. Inputs that cannot be used (a corrupt
 * image, a truncated WAV, binary junk as text) are skipped and counted with the reason the pipeline's dead letters
 * give.
 *
 * <p>Output, by the file's extension: {@code .npy} (float32 (N, D), NumPy's format, with the ids one per line in
 * {@code <file>.ids.txt}) or {@code .jsonl} ({@code {"id", "embedding"}} per line, and {@code "tokens"} (T x D) with
 * per-token output). Written to a temporary name and moved into place.
 */
public final class Embedder {

    /**
     * @param readout   {@link Readout#LAST} (the last block's mean, D wide) or {@link Readout#LAYERS} (the linear
     *                  probe's readout)
     * @param perToken  also write each input's per-token features (JSONL only)
     * @param batchSize inputs per ONNX Runtime call
     */
    public record Options(Readout readout, boolean perToken, int batchSize) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
        }
    }

    /** What an embedding run did. */
    public record Summary(long embedded, int dims, LocalBatches.Stats skipped, Path out, Path ids) {}

    private Embedder() {}

    public static Summary run(OnnxEncoder encoder, Path input, Options options, Path out) throws IOException, OrtException {
        Modality m = encoder.modality();
        ExportPackage.Loaded pkg = encoder.exportPackage();
        Transforms transforms = pkg.transforms(m);
        LocalSource source = LocalSource.path(input, m);
        if (source.size() == 0) {
            throw new IllegalArgumentException("no " + m.id() + " inputs under " + input);
        }
        LocalBatches batches = new LocalBatches(source, transforms, m == Modality.TEXT ? pkg.vocabulary() : null,
                LocalBatches.Options.evaluation(options.batchSize()));
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean npy = name.endsWith(".npy");
        if (!npy && !name.endsWith(".jsonl")) {
            throw new IllegalArgumentException("--out must end in .npy or .jsonl, got " + out);
        }
        if (npy && options.perToken()) {
            throw new IllegalArgumentException("per-token features go to a .jsonl file (their length varies per input)");
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve(out.getFileName() + ".tmp");
        Path idsFile = npy ? parent.resolve(out.getFileName() + ".ids.txt") : null;
        List<String> ids = new ArrayList<>();
        long rows = 0;
        int dims = -1;
        try (Progress progress = new Progress("embed " + m.id(), source.size());
             OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            JsonGenerator json = npy ? null : new ObjectMapper().getFactory().createGenerator(os);
            if (npy) {
                os.write(new byte[Npy.HEADER]);   // the header, once the row count is known
            }
            LocalBatches.BatchIterator it = batches.iterator(LocalBatches.Position.START, 1);
            while (it.hasNext()) {
                Minibatch b = it.next();
                OnnxEncoder.Features f = encoder.encode(b);
                for (int i = 0; i < f.n(); i++) {
                    float[] v = f.vector(i, options.readout());
                    dims = v.length;
                    String id = b.sampleIds().get(i);
                    if (npy) {
                        ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                        bb.asFloatBuffer().put(v);
                        os.write(bb.array());
                        ids.add(id);
                    } else {
                        writeJson(json, id, v, options.perToken() ? f : null, i, b);
                    }
                    rows++;
                }
                progress.set(rows + batches.stats().skipped(), rows + " embedded, " + batches.stats().skipped() + " skipped");
            }
            if (json != null) {
                json.flush();
            }
        }
        if (npy) {
            Npy.writeHeader(tmp, rows, Math.max(dims, 0));
            Files.write(idsFile, (String.join("\n", ids) + (ids.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Summary(rows, Math.max(dims, 0), batches.stats(), out, idsFile);
    }

    private static void writeJson(JsonGenerator json, String id, float[] v, OnnxEncoder.Features f, int i, Minibatch b)
            throws IOException {
        json.writeStartObject();
        json.writeStringField("id", id);
        json.writeArrayFieldStart("embedding");
        for (float x : v) {
            json.writeNumber(x);
        }
        json.writeEndArray();
        if (f != null) {
            int real = realTokens(b, i, f.t());
            json.writeArrayFieldStart("tokens");
            for (int t = 0; t < real; t++) {
                json.writeStartArray();
                int base = (i * f.t() + t) * f.d();
                for (int d = 0; d < f.d(); d++) {
                    json.writeNumber(f.tokens()[base + d]);
                }
                json.writeEndArray();
            }
            json.writeEndArray();
        }
        json.writeEndObject();
        json.writeRaw('\n');
    }

    /** Sample i's real tokens: all but the padding (audio: ceil(frames / 2)). */
    private static int realTokens(Minibatch b, int i, int t) {
        if (b.modality() == Modality.IMAGE || b.validLengths() == null) {
            return t;
        }
        int valid = b.validLengths()[i];
        int tokens = b.modality() == Modality.AUDIO ? (valid + 1) / 2 : valid;
        return Math.max(1, Math.min(t, tokens));
    }

    /** NumPy's .npy format, version 1.0, little-endian float32, C order. */
    static final class Npy {
        /** Header bytes including magic and padding: a multiple of 64, room for any (N, D). */
        static final int HEADER = 128;

        private Npy() {}

        static void writeHeader(Path file, long rows, int cols) throws IOException {
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
            byte[] text = dict.getBytes(StandardCharsets.US_ASCII);
            int headerLen = HEADER - 10;   // after magic (6), version (2), length (2)
            byte[] header = new byte[HEADER];
            byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
            System.arraycopy(magic, 0, header, 0, magic.length);
            header[8] = (byte) (headerLen & 0xff);
            header[9] = (byte) (headerLen >> 8);
            System.arraycopy(text, 0, header, 10, text.length);
            for (int i = 10 + text.length; i < HEADER - 1; i++) {
                header[i] = ' ';
            }
            header[HEADER - 1] = '\n';
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.seek(0);
                f.write(header);
            }
        }
    }
}
