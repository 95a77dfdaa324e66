package dev.d2v.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.evaluate.features.FeatureCache;
import dev.d2v.evaluate.features.FeatureKey;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.infra.FileTrees;
import dev.d2v.infra.Modality;
import dev.d2v.infra.wire.EvalResult;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.preprocess.transform.audio.AudioTransformConfig;
import dev.d2v.preprocess.transform.image.ImageTransformConfig;
import dev.d2v.preprocess.transform.text.TextAnalysis;
import dev.d2v.preprocess.transform.text.TextTransformConfig;
import dev.d2v.preprocess.transform.text.Vocabulary;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.checkpoint.CheckpointStore;
import dev.d2v.train.model.Readout;
import dev.d2v.train.run.TrainerCheckpoints;
import dev.d2v.train.step.TinyConfigs;
import dev.d2v.train.step.Trainer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CheckpointEvaluation} on a checkpoint that trained image, audio and text: a probe folder belongs to the
 * modality of its files, and only that modality's encoder is probed on it.
 */
class CheckpointEvaluationTest {

    @TempDir
    static Path dir;

    static Path checkpoint;
    /** The run settings saved with the checkpoints. */
    static JsonNode run;

    /** A tiny model of all three modalities, saved untrained (step 0) with transforms that fit its inputs. */
    @BeforeAll
    static void threeModalityCheckpoint() throws IOException {
        Transforms transforms = new Transforms(ImageTransformConfig.defaults().withSize(8),
                new AudioTransformConfig(16000, 16, 400, 160, 2048, 24, 0, 8000, 32L << 20),
                TextTransformConfig.defaults());
        ObjectMapper json = new ObjectMapper();
        run = json.createObjectNode().set("transforms", json.valueToTree(transforms));
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 1)) {
            assertThat(t.config().modalities()).containsExactly(Modality.IMAGE, Modality.AUDIO, Modality.TEXT);
            checkpoint = TrainerCheckpoints.save(t, dir.resolve("run").resolve("checkpoints"), run,
                    CheckpointManifest.DataPosition.none()).folder();
        }
    }

    private static CheckpointEvaluation evaluation(List<String> tasks, List<String> log) {
        return new CheckpointEvaluation(new DataContext(dir.resolve("cache"), 1, 0, s -> { }),
                new FeatureCache(dir.resolve("features-" + tasks.size() + "-" + log.hashCode())),
                new CheckpointEvaluation.Options(tasks, 0, 0, 8, 7, Device.cpu(), FrozenFeatureProbes.Config.defaults(),
                        null),
                log::add);
    }

    @Test
    void aFolderOfWavsIsProbedOnTheAudioEncoderOnly() throws IOException {
        Path wavs = toneFolder(dir.resolve("tones"));
        List<String> log = new ArrayList<>();
        List<EvalResult> results = evaluation(List.of(wavs.toString()), log).evaluate(checkpoint);

        assertThat(results).extracting(EvalResult::modality).containsOnly(Modality.AUDIO);
        assertThat(results).extracting(r -> r.protocol().id()).containsExactly("linear", "knn");
        assertThat(results).allSatisfy(r -> {
            assertThat(r.task()).isEqualTo("tones");
            assertThat(r.extras().get("train_rows")).isEqualTo(8.0);
            assertThat(r.extras().get("test_rows")).isEqualTo(4.0);
        });
        assertThat(log).anyMatch(l -> l.contains("audio tones (8 train, 4 test)"));
    }

    /**
     * The two readouts share one cache without reading each other's features: the tiny model (D 32, 2 blocks) gives
     * the linear probe 32 features on the last block and 96 on the layers (the local encoder and both blocks), for the
     * checkpoint and its random-init baseline alike, in either order; the k-NN reads the last block's 32 either way.
     */
    @Test
    void eachReadoutProbesItsOwnFeaturesFromOneCache() throws IOException {
        Path wavs = toneFolder(dir.resolve("tones-readout"));
        FeatureCache cache = new FeatureCache(dir.resolve("features-readout"));
        for (Readout r : List.of(Readout.LAST, Readout.LAYERS, Readout.LAST)) {
            CheckpointEvaluation e = new CheckpointEvaluation(new DataContext(dir.resolve("cache"), 1, 0, s -> { }), cache,
                    new CheckpointEvaluation.Options(List.of(wavs.toString()), 0, 0, 8, 7, Device.cpu(),
                            FrozenFeatureProbes.Config.defaults(r), null), s -> { });
            List<EvalResult> results = e.evaluate(checkpoint);
            assertThat(results).as("readout %s", r).hasSize(2).allSatisfy(
                    x -> assertThat(x.baselineAccuracy()).isBetween(0.0, 1.0));
            assertThat(results.get(0).extras().get("dims")).as("linear probe").isEqualTo(r == Readout.LAST ? 32.0 : 96.0);
            assertThat(results.get(1).extras().get("dims")).as("k-NN: the last block's").isEqualTo(32.0);
        }
        try (Stream<Path> files = Files.walk(dir.resolve("features-readout"))) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith("probes-"))
                    .filter(f -> f.toString().contains("random-init"))
                    .map(f -> f.getParent().getFileName().toString()))
                    .as("the random-init baseline's stored probe results, one per readout")
                    .containsExactlyInAnyOrder("tones-readout", "tones-readout-layers");
        }
    }

    @Test
    void aSecondRunIntoTheSameFolderIsAnotherCheckpointWhoseFeaturesAreItsOwn() throws IOException {
        Path wavs = toneFolder(dir.resolve("tones-rerun"));
        Path root = dir.resolve("rerun").resolve("checkpoints");
        FeatureCache cache = new FeatureCache(dir.resolve("features-rerun"));
        List<String> ids = new ArrayList<>();
        for (long seed : new long[] {1, 2}) {   // two runs into one folder: the same step, the same folder name
            FileTrees.delete(root);
            Path folder;
            try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), seed)) {
                folder = TrainerCheckpoints.save(t, root, run, CheckpointManifest.DataPosition.none()).folder();
            }
            CheckpointEvaluation e = new CheckpointEvaluation(new DataContext(dir.resolve("cache"), 1, 0, s -> { }), cache,
                    new CheckpointEvaluation.Options(List.of(wavs.toString()), 0, 0, 8, 7, Device.cpu(),
                            FrozenFeatureProbes.Config.defaults(Readout.LAST), null), s -> { });
            ids.add(e.evaluate(folder).get(0).checkpoint());
            assertThat(folder.getFileName().toString()).isEqualTo("step-000000000");
        }
        assertThat(ids.get(0)).startsWith("step-000000000-").isNotEqualTo(ids.get(1));
        for (String id : ids) {
            assertThat(cache.path(new FeatureKey(id, Modality.AUDIO, "tones-rerun", "train")))
                    .as("features of %s, computed for it", id).exists();
        }
    }

    @Test
    void aVocabularyThatChangedSinceTrainingIsRefused() throws IOException {
        TextTransformConfig text = TextTransformConfig.defaults();
        Path file = dir.resolve("changed.vocab");
        Vocabulary.build(List.of("one two three"), new TextAnalysis(text.analyzer()), text).save(file);
        ObjectNode withVocab = run.deepCopy();
        withVocab.put("vocabulary", file.toString());
        withVocab.put("vocabulary_hash", Long.toHexString(Vocabulary.load(file).contentHash() ^ 1));   // not this file
        Path folder;
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 1)) {
            folder = TrainerCheckpoints.save(t, dir.resolve("vocab-run").resolve("checkpoints"), withVocab,
                    CheckpointManifest.DataPosition.none()).folder();
        }
        Path wavs = toneFolder(dir.resolve("tones-vocab"));
        assertThatThrownBy(() -> evaluation(List.of(wavs.toString()), new ArrayList<>()).evaluate(folder))
                .isInstanceOf(IOException.class).hasMessageContaining("has changed since the checkpoint was trained");
    }

    @Test
    void aFolderOfNoTrainedModalityIsAnError() throws IOException {
        Path wavs = toneFolder(dir.resolve("tones-for-images"));
        Path imageOnly;
        try (Trainer t = new Trainer(TinyConfigs.tiny().restrictTo(List.of(Modality.IMAGE)), Device.cpu(), 1)) {
            imageOnly = TrainerCheckpoints.save(t, dir.resolve("image-run").resolve("checkpoints"), run,
                    CheckpointManifest.DataPosition.none()).folder();
        }
        assertThatThrownBy(() -> evaluation(List.of(wavs.toString()), new ArrayList<>()).evaluate(imageOnly))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("none of the probe tasks [" + wavs + "] holds records of a modality this "
                        + "checkpoint trained (image)");

        Path notes = dir.resolve("notes");
        Files.createDirectories(notes);
        Files.writeString(notes.resolve("a.csv"), "not a sample", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> evaluation(List.of(notes.toString()), new ArrayList<>()).evaluate(checkpoint))
                .isInstanceOf(IOException.class).hasMessageContaining("no png/jpg, wav, txt or jsonl files");
    }

    @Test
    void baselineProbeResultsAreStoredOnceAndSharedByRunsOfOneShape() throws IOException {
        Path wavs = toneFolder(dir.resolve("tones-shared"));
        Path features = dir.resolve("shared-features");
        ObjectNode otherRun = ((ObjectNode) run).deepCopy().put("note", "another run, same model and transforms");
        Path other;
        try (Trainer t = new Trainer(TinyConfigs.tiny(), Device.cpu(), 2)) {
            other = TrainerCheckpoints.save(t, dir.resolve("other-run").resolve("checkpoints"), otherRun,
                    CheckpointManifest.DataPosition.none()).folder();
        }
        assertThat(CheckpointStore.verify(other).manifest().configHash())
                .isNotEqualTo(CheckpointStore.verify(checkpoint).manifest().configHash());

        List<EvalResult> first = sharedEvaluation(wavs, features).evaluate(checkpoint);
        List<Path> stored = storedProbeFiles(features);
        assertThat(stored).hasSize(2) // the random-init encoder's and the raw features'
                .allSatisfy(f -> assertThat(f.getFileName().toString()).matches("probes-[0-9a-f]{16}\\.json"));
        List<String> before = new ArrayList<>();
        for (Path f : stored) {
            before.add(Files.readString(f));
        }

        // a new process (new instance) on another run's checkpoint of the same shape: the stored results are reused
        List<EvalResult> second = sharedEvaluation(wavs, features).evaluate(other);
        assertThat(storedProbeFiles(features)).containsExactlyElementsOf(stored);
        for (int i = 0; i < stored.size(); i++) {
            assertThat(Files.readString(stored.get(i))).isEqualTo(before.get(i));
        }
        assertThat(second).extracting(EvalResult::baselineAccuracy)
                .containsExactlyElementsOf(first.stream().map(EvalResult::baselineAccuracy).toList());
        assertThat(second).extracting(EvalResult::rawAccuracy)
                .containsExactlyElementsOf(first.stream().map(EvalResult::rawAccuracy).toList());
    }

    private static CheckpointEvaluation sharedEvaluation(Path task, Path features) {
        return new CheckpointEvaluation(new DataContext(dir.resolve("cache"), 1, 0, s -> { }), new FeatureCache(features),
                new CheckpointEvaluation.Options(List.of(task.toString()), 0, 0, 8, 7, Device.cpu(),
                        FrozenFeatureProbes.Config.defaults(), null),
                s -> { });
    }

    private static List<Path> storedProbeFiles(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.getFileName().toString().startsWith("probes-")).sorted().toList();
        }
    }

    /** 12 labeled one-second tones, 8 train and 4 test: "low" at 300 Hz, "high" at 2 kHz. */
    private static Path toneFolder(Path root) throws IOException {
        for (int i = 0; i < 12; i++) {
            String label = i % 2 == 0 ? "low" : "high";
            Path f = root.resolve(i < 8 ? "train" : "test").resolve(label).resolve(i + ".wav");
            Files.createDirectories(f.getParent());
            Files.write(f, wav(label.equals("low") ? 300 + 10 * i : 2000 + 10 * i, 16000, 16000));
        }
        return root;
    }

    /** 16-bit mono PCM WAV of a sine. */
    private static byte[] wav(double hz, int rate, int samples) {
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * samples).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * samples)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(rate).putInt(2 * rate).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * samples);
        for (int i = 0; i < samples; i++) {
            b.putShort((short) Math.round(0.5 * 32767 * Math.sin(2 * Math.PI * hz * i / rate)));
        }
        return b.array();
    }
}
