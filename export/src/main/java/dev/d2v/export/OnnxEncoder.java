package dev.d2v.export;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.Minibatch;
import dev.d2v.preprocess.batch.BatchAssembler;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One modality's exported encoder on ONNX Runtime: raw inputs in ({@link #embed}: image files, WAVs, texts, through
 * the package's own preprocessing) or minibatches as the preprocessing makes them ({@link #encode}), features out.
 * No DJL and no checkpoint: a verified {@link ExportPackage} is all it reads.
 * <pre>
 *   try (OnnxEncoder e = OnnxEncoder.load(Path.of("export"), Modality.IMAGE, OnnxEncoder.Options.defaults())) {
 *       OnnxEncoder.Embeddings out = e.embed(List.of(new OnnxEncoder.Input("shoe", Files.readAllBytes(png))));
 *       float[] v = out.vectors()[0];               // the layers readout; out.skipped(): unusable inputs and why
 *   }
 * </pre>
 */
public final class OnnxEncoder implements AutoCloseable {

    /**
     * @param int8     run the package's int8 model (it must have one: {@code export --int8})
     * @param threads  ONNX Runtime intra-op threads (0: its default, one per core)
     * @param optimize ONNX Runtime's graph optimisations (all levels) or none
     */
    public record Options(boolean int8, int threads, boolean optimize) {
        public static Options defaults() {
            return new Options(false, 0, true);
        }

        public Options withInt8(boolean q) {
            return new Options(q, threads, optimize);
        }

        public Options withThreads(int n) {
            return new Options(int8, n, optimize);
        }
    }

    /**
     * The encoder's outputs for a batch of n samples, row-major.
     *
     * @param tokens per-token features (n, t, d) of the last block
     * @param pooled (n, d): their mean over each sample's real tokens
     * @param layers (n, layersDim): the pooled local encoder and top blocks (the linear probe's readout)
     */
    public record Features(int n, int t, int d, int layersDim, float[] tokens, float[] pooled, float[] layers) {
        /** Sample i's vector under a readout: {@link #layers(int)} or {@link #pooled(int)}. */
        public float[] vector(int i, Readout readout) {
            return readout == Readout.LAYERS ? layers(i) : pooled(i);
        }

        /** Sample i's pooled features. */
        public float[] pooled(int i) {
            float[] out = new float[d];
            System.arraycopy(pooled, i * d, out, 0, d);
            return out;
        }

        /** Sample i's layers readout. */
        public float[] layers(int i) {
            float[] out = new float[layersDim];
            System.arraycopy(layers, i * layersDim, out, 0, layersDim);
            return out;
        }
    }

    private final Modality modality;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final ExportPackage.Loaded pkg;
    private SampleTransformer transformer;
    private BatchSpec batchSpec;

    /** One raw input: its id and its bytes (an image file's, a WAV file's, or UTF-8 text). */
    public record Input(String id, byte[] bytes) {}

    /** An input {@link #embed} could not use, with the reason the pipeline's dead letters give. */
    public record Skipped(String id, String reason, String message) {}

    /** The vectors of the usable inputs, in input order, with their ids; the others in {@code skipped}. */
    public record Embeddings(List<String> ids, float[][] vectors, List<Skipped> skipped) {}

    private OnnxEncoder(Modality modality, OrtEnvironment env, OrtSession session, ExportPackage.Loaded pkg) {
        this.modality = modality;
        this.env = env;
        this.session = session;
        this.pkg = pkg;
    }

    /** Verifies the package ({@link ExportPackage#load}) and opens modality m's model. */
    public static OnnxEncoder load(Path packageDir, Modality m, Options options) throws IOException {
        ExportPackage.Loaded pkg = ExportPackage.load(packageDir);
        Path model = options.int8()
                ? pkg.int8Model(m).orElseThrow(() -> new IllegalArgumentException("the package " + packageDir
                        + " has no int8 " + m.id() + " model: export it with --int8"))
                : pkg.model(m);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(options.optimize() ? OrtSession.SessionOptions.OptLevel.ALL_OPT
                    : OrtSession.SessionOptions.OptLevel.NO_OPT);
            if (options.threads() > 0) {
                o.setIntraOpNumThreads(options.threads());
                o.setInterOpNumThreads(1);
            }
            return new OnnxEncoder(m, env, env.createSession(model.toString(), o), pkg);
        } catch (OrtException e) {
            throw new IOException("ONNX Runtime cannot open " + model + ": " + e.getMessage(), e);
        }
    }

    public Modality modality() {
        return modality;
    }

    /** The package the model came from. */
    public ExportPackage.Loaded exportPackage() {
        return pkg;
    }

    /** {@link #embed(List, Readout)} with the linear probe's readout ({@link Readout#LAYERS}). */
    public Embeddings embed(List<Input> inputs) throws IOException, OrtException {
        return embed(inputs, Readout.LAYERS);
    }

    /**
     * Pooled features of raw inputs: each goes through the package's preprocessing (the training transforms in
     * evaluation mode, checked against their hash when the package loads), then the model in batches of up to 64.
     * An input that cannot be used (a corrupt image, a truncated WAV, binary junk as text) is left out and listed in
     * {@link Embeddings#skipped()} with its reason; the rest are embedded.
     *
     * @param readout {@link Readout#LAYERS} (the local encoder's and top blocks' means) or {@link Readout#LAST}
     */
    public Embeddings embed(List<Input> inputs, Readout readout) throws IOException, OrtException {
        if (transformer == null) {
            TransformSpec spec = pkg.transforms(modality).spec(modality,
                    modality == Modality.TEXT ? pkg.vocabulary() : null, 0);
            transformer = spec.open();
            batchSpec = spec.batchSpec(64, BatchSpec.DEFAULT_TIMEOUT_MS);
        }
        List<Sample> samples = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (Input in : inputs) {
            try {
                samples.addAll(transformer.apply(in.id(), in.bytes(), 0, Mode.EVAL, -1, 0));
            } catch (RuntimeException e) { // classified or not, one bad input: skipped with its reason
                skipped.add(new Skipped(in.id(), BadRecordException.reasonOf(e), BadRecordException.messageOf(e)));
            }
        }
        List<String> ids = new ArrayList<>();
        float[][] vectors = new float[samples.size()][];
        for (int from = 0; from < samples.size(); from += batchSpec.batchSize()) {
            Minibatch b = BatchAssembler.assemble(batchSpec,
                    samples.subList(from, Math.min(samples.size(), from + batchSpec.batchSize())));
            Features f = encode(b);
            for (int i = 0; i < f.n(); i++) {
                vectors[from + i] = f.vector(i, readout);
                ids.add(b.sampleIds().get(i));
            }
        }
        return new Embeddings(ids, vectors, skipped);
    }

    /**
     * The features of a minibatch of this modality in the wire layout: image uint8 (n, C, H, W); audio fp16 or fp32
     * (n, frames, mels) with valid lengths; text int32 (n, length) with valid lengths.
     */
    public Features encode(Minibatch b) throws OrtException {
        if (b.modality() != modality) {
            throw new IllegalArgumentException("a " + b.modality().id() + " batch for the " + modality.id() + " encoder");
        }
        long[] shape = new long[b.rank()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = b.shape()[i];
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            switch (modality) {
                case IMAGE -> in.put("pixels", OnnxTensor.createTensor(env, ByteBuffer.wrap(b.payload()), shape,
                        OnnxJavaType.UINT8));
                case AUDIO -> {
                    in.put("log_mel", OnnxTensor.createTensor(env, FloatBuffer.wrap(b.toFloatArray()), shape));
                    in.put("lengths", lengths(b));
                }
                case TEXT -> {
                    int[] ids = b.toIntArray();
                    long[] wide = new long[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        wide[i] = ids[i];
                    }
                    in.put("ids", OnnxTensor.createTensor(env, LongBuffer.wrap(wide), shape));
                    in.put("lengths", lengths(b));
                }
            }
            try (OrtSession.Result r = session.run(in)) {
                OnnxTensor tokens = (OnnxTensor) r.get("tokens").orElseThrow();
                OnnxTensor layers = (OnnxTensor) r.get("layers").orElseThrow();
                long[] ts = tokens.getInfo().getShape();
                long[] ls = layers.getInfo().getShape();
                return new Features((int) ts[0], (int) ts[1], (int) ts[2], (int) ls[1], floats(tokens),
                        floats((OnnxTensor) r.get("pooled").orElseThrow()), floats(layers));
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor lengths(Minibatch b) throws OrtException {
        long[] l = new long[b.batchSize()];
        int[] valid = b.validLengths();
        for (int i = 0; i < l.length; i++) {
            l[i] = valid == null ? b.shape()[1] : valid[i];
        }
        return OnnxTensor.createTensor(env, LongBuffer.wrap(l), new long[] {l.length});
    }

    private static float[] floats(OnnxTensor t) {
        FloatBuffer fb = t.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
