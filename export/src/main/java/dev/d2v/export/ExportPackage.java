package dev.d2v.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.export.onnx.EncoderGraph;
import dev.d2v.export.onnx.OnnxExport;
import dev.d2v.infra.Modality;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointException;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.checkpoint.Digests;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Readout;
import dev.d2v.train.run.TrainerCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A self-contained export of a checkpoint's encoders: everything a consumer needs to turn raw inputs into the
 * encoder's features, and nothing it has to guess.
 * <pre>
 *   OUT/model.json        what follows, with the SHA-256 of every file
 *   OUT/&lt;modality&gt;.onnx   one ONNX model per modality (inputs and outputs in model.json, see EncoderGraph)
 *   OUT/vocabulary.txt    the text vocabulary the ids come from (when text is exported)
 * </pre>
 * model.json: {@code format} "d2v-export", {@code format_version} 1, {@code created_at}; {@code source}: the
 * checkpoint's folder, id, step, model config hash and student file SHA-256; {@code config}: the checkpoint's whole
 * configuration (model and run); per modality under {@code modalities}: the file, its bytes and SHA-256, the graph's
 * inputs and outputs, and the preprocessing: the transform's settings (as the Flink job takes them), its config hash
 * (the one every minibatch of these settings carries), and for text the vocabulary file and its SHA-256.
 * {@link #load} refuses a package whose files do not match their recorded hashes.
 */
public final class ExportPackage {

    public static final String FORMAT = "d2v-export";
    public static final int FORMAT_VERSION = 1;
    public static final String MANIFEST = "model.json";
    public static final String VOCABULARY = "vocabulary.txt";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ExportPackage() {}

    /** A verified package: its folder and its model.json. */
    public record Loaded(Path folder, JsonNode manifest) {
        /** The modalities it holds. */
        public List<Modality> modalities() {
            List<Modality> out = new ArrayList<>();
            manifest.path("modalities").fieldNames().forEachRemaining(id -> out.add(Modality.parse(id)));
            return out;
        }

        /** The fp32 ONNX file of modality m. */
        public Path model(Modality m) {
            return folder.resolve(node(m).get("file").asText());
        }

        /** The int8 ONNX file of modality m, if the package has one. */
        public Optional<Path> int8Model(Modality m) {
            JsonNode q = node(m).get("int8");
            return q == null ? Optional.empty() : Optional.of(folder.resolve(q.get("file").asText()));
        }

        private JsonNode node(Modality m) {
            JsonNode node = manifest.path("modalities").get(m.id());
            if (node == null) {
                throw new IllegalArgumentException("the package " + folder + " has no " + m.id() + " encoder; it has "
                        + modalities());
            }
            return node;
        }

        public long step() {
            return manifest.path("source").path("step").asLong();
        }

        /**
         * The preprocessing the encoder was trained with (the run's transforms), checked against modality m's
         * recorded config hash, so that embedding goes through exactly the training transforms.
         *
         * @throws IOException when the recorded settings do not give the recorded hash
         */
        public Transforms transforms(Modality m) throws IOException {
            JsonNode t = manifest.path("config").path(TrainerCheckpoints.RUN).get("transforms");
            Transforms transforms = t == null ? Transforms.defaults() : JSON.treeToValue(t, Transforms.class);
            String recorded = node(m).path("preprocessing").path("config_hash").asText();
            String actual = String.format("%016x", transforms.configHash(m, m == Modality.TEXT ? vocabulary() : null));
            if (!actual.equals(recorded)) {
                throw new IOException("export package " + folder + ": the " + m.id() + " preprocessing settings in "
                        + MANIFEST + " hash to " + actual + ", not the recorded " + recorded);
            }
            return transforms;
        }

        /** The text vocabulary (verified on load), or null when the package has no text encoder. */
        public Vocabulary vocabulary() {
            JsonNode v = manifest.path("modalities").path("text").path("preprocessing").get("vocabulary");
            return v == null ? null : Vocabulary.load(folder.resolve(v.asText()));
        }
    }

    /**
     * Exports the student of the verified checkpoint into out (created; files replaced one by one, model.json last).
     *
     * @param modalities the encoders to export; empty: every modality the checkpoint trained
     */
    public static Loaded fromCheckpoint(Path checkpoint, List<Modality> modalities, Path out, String version)
            throws CheckpointException, IOException {
        return fromCheckpoint(checkpoint, modalities, false, out, version);
    }

    /** {@link #fromCheckpoint}, with the dynamically quantized int8 models beside the fp32 ones when int8. */
    public static Loaded fromCheckpoint(Path checkpoint, List<Modality> modalities, boolean int8, Path out,
                                        String version) throws CheckpointException, IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            CheckpointStore.Loaded loaded = CheckpointStore.read(checkpoint, manager);
            CheckpointManifest manifest = loaded.manifest();
            Data2VecConfig config = TrainerCheckpoints.modelConfig(manifest);
            Map<String, NDArray> student = loaded.groups().get("student");
            if (student == null) {
                throw new CheckpointException(checkpoint, "has no student group");
            }
            JsonNode run = manifest.config().path(TrainerCheckpoints.RUN);
            Transforms transforms = run.has("transforms")
                    ? JSON.treeToValue(run.get("transforms"), Transforms.class) : Transforms.defaults();
            Path vocabularyFile = run.hasNonNull("vocabulary") ? Path.of(run.get("vocabulary").asText()) : null;

            ObjectNode source = JSON.createObjectNode();
            source.put("checkpoint", checkpoint.toAbsolutePath().normalize().toString());
            source.put("id", checkpoint.getFileName().toString());
            source.put("step", manifest.step());
            source.put("config_hash", manifest.configHash());
            CheckpointManifest.FileDigest studentFile = manifest.files().get("student" + CheckpointStore.GROUP_SUFFIX);
            source.put("student_sha256", studentFile == null ? "" : studentFile.sha256());
            return write(config, OnnxExport.FloatWeights.of(student), modalities, int8, out, version, source,
                    manifest.config(), transforms, vocabularyFile);
        }
    }

    /**
     * Writes a package of these weights (the checkpoint-free core of {@link #fromCheckpoint}).
     *
     * @throws IllegalArgumentException for a modality the model lacks, or text without its vocabulary file
     */
    public static Loaded write(Data2VecConfig config, EncoderGraph.Weights weights, List<Modality> modalities,
                               boolean int8, Path out, String version, ObjectNode source, JsonNode fullConfig,
                               Transforms transforms, Path vocabularyFile) throws IOException {
        List<Modality> which = modalities.isEmpty() ? config.modalities() : modalities;
        for (Modality m : which) {
            if (config.modality(m) == null) {
                throw new IllegalArgumentException("the checkpoint has no " + m.id() + " encoder; it has "
                        + config.modalities());
            }
        }
        Vocabulary vocabulary = null;
        if (which.contains(Modality.TEXT)) {
            if (vocabularyFile == null || !Files.isRegularFile(vocabularyFile)) {
                throw new IllegalArgumentException("the text encoder needs the vocabulary its ids come from, and "
                        + (vocabularyFile == null ? "the checkpoint names none" : vocabularyFile + " is missing"));
            }
            vocabulary = Vocabulary.load(vocabularyFile);
        }
        Files.createDirectories(out);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("d2v.step", source.path("step").asText());
        metadata.put("d2v.checkpoint", source.path("id").asText());
        List<OnnxExport.Written> written = OnnxExport.write(config, weights, which, out, version, metadata, int8);

        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.put("created_at", Instant.now().toString());
        root.put("producer_version", version);
        root.set("source", source);
        root.set("config", fullConfig);
        ObjectNode mods = root.putObject("modalities");
        for (OnnxExport.Written w : written) {
            Modality m = w.modality();
            ObjectNode node = mods.putObject(m.id());
            node.put("file", w.file().getFileName().toString());
            node.put("bytes", Files.size(w.file()));
            node.put("sha256", Digests.sha256Hex(w.file()));
            if (w.int8File() != null) {
                ObjectNode q = node.putObject("int8");
                q.put("file", w.int8File().getFileName().toString());
                q.put("bytes", Files.size(w.int8File()));
                q.put("sha256", Digests.sha256Hex(w.int8File()));
                q.put("quantization", "dynamic: activations uint8 per tensor at run time (DynamicQuantizeLinear), weight "
                        + "MatMuls int8 per output column (MatMulInteger); text token table int8 per row; convolutions, "
                        + "LayerNorm, attention scores and softmax fp32");
            }
            describeIo(node, config, m);
            ObjectNode pre = node.putObject("preprocessing");
            pre.set("transform", JSON.valueToTree(transforms.config(m)));
            pre.put("config_hash", String.format("%016x", transforms.configHash(m, m == Modality.TEXT ? vocabulary : null)));
            if (m == Modality.TEXT) {
                Path copy = out.resolve(VOCABULARY);
                Files.write(copy, Files.readAllBytes(vocabularyFile));   // a plain new file, not the source's permissions
                pre.put("vocabulary", VOCABULARY);
                pre.put("vocabulary_sha256", Digests.sha256Hex(copy));
                pre.put("vocabulary_hash", String.format("%016x", vocabulary.contentHash()));
            }
        }
        Path tmp = out.resolve(MANIFEST + ".tmp");
        JSON.writeValue(tmp.toFile(), root);
        Files.move(tmp, out.resolve(MANIFEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return load(out);
    }

    private static void describeIo(ObjectNode node, Data2VecConfig config, Modality m) {
        var l = config.modality(m).localEncoder();
        ArrayNode in = node.putArray("inputs");
        switch (m) {
            case IMAGE -> io(in, "pixels", "uint8", "batch", l.channels(), l.height(), l.width())
                    .put("note", "the preprocessing's uint8 pixels; mapped to [-1, 1] inside the graph");
            case AUDIO -> {
                io(in, "log_mel", "float32", "batch", "frames", l.mels())
                        .put("note", "log-mel frames as the audio transform writes them (fp16 on the wire)");
                io(in, "lengths", "int64", "batch").put("note", "real frames per row; the rest is padding");
            }
            case TEXT -> {
                io(in, "ids", "int64", "batch", "length").put("note", "token ids of " + VOCABULARY);
                io(in, "lengths", "int64", "batch").put("note", "real tokens per row; the rest is padding");
            }
        }
        int d = config.model().dim();
        int main = config.model().depth() - config.modality(m).prenetDepth();
        ArrayNode outs = node.putArray("outputs");
        io(outs, "tokens", "float32", "batch", "tokens", d).put("note", "the last block's output per token");
        io(outs, "pooled", "float32", "batch", d).put("note", "its mean over the real tokens (readout 'last')");
        io(outs, "layers", "float32", "batch", Readout.LAYERS.dim(d, main))
                .put("note", "pooled local encoder and top blocks (readout 'layers', the linear probe's features)");
    }

    private static ObjectNode io(ArrayNode parent, String name, String dtype, Object... shape) {
        ObjectNode n = parent.addObject();
        n.put("name", name);
        n.put("dtype", dtype);
        ArrayNode s = n.putArray("shape");
        for (Object o : shape) {
            if (o instanceof Number x) {
                s.add(x.longValue());
            } else {
                s.add(o.toString());
            }
        }
        return n;
    }

    /**
     * Reads and verifies a package: the format, and every file against its recorded size and SHA-256.
     *
     * @throws IOException naming the first file that is missing or does not match
     */
    public static Loaded load(Path folder) throws IOException {
        Path manifestFile = folder.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new IOException(folder + " is not an export package: it has no " + MANIFEST);
        }
        JsonNode manifest = JSON.readTree(manifestFile.toFile());
        if (!FORMAT.equals(manifest.path("format").asText()) || manifest.path("format_version").asInt() != FORMAT_VERSION) {
            throw new IOException(manifestFile + ": not a " + FORMAT + " version " + FORMAT_VERSION + " manifest (format '"
                    + manifest.path("format").asText() + "', version " + manifest.path("format_version").asText() + ")");
        }
        var it = manifest.path("modalities").fields();
        while (it.hasNext()) {
            var e = it.next();
            JsonNode node = e.getValue();
            check(folder, node.path("file").asText(), node.path("sha256").asText());
            if (node.has("int8")) {
                check(folder, node.path("int8").path("file").asText(), node.path("int8").path("sha256").asText());
            }
            JsonNode pre = node.path("preprocessing");
            if (pre.hasNonNull("vocabulary")) {
                check(folder, pre.get("vocabulary").asText(), pre.path("vocabulary_sha256").asText());
            }
        }
        return new Loaded(folder, manifest);
    }

    private static void check(Path folder, String name, String sha256) throws IOException {
        Path file = folder.resolve(name).normalize();
        if (!file.startsWith(folder.normalize()) || !Files.isRegularFile(file)) {
            throw new IOException("export package " + folder + ": " + name + " is missing");
        }
        String actual = Digests.sha256Hex(file);
        if (!actual.equals(sha256)) {
            throw new IOException("export package " + folder + ": " + name + " does not match its SHA-256 in " + MANIFEST
                    + " (recorded " + sha256 + ", found " + actual + "): the file was changed or damaged after export");
        }
    }
}
