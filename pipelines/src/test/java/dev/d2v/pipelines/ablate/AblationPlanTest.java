package dev.d2v.pipelines.ablate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.d2v.evaluate.EvaluationSettings;
import dev.d2v.evaluate.probe.FrozenFeatureProbes;
import dev.d2v.infra.Modality;
import dev.d2v.infra.Topics;
import dev.d2v.ingest.data.DataContext;
import dev.d2v.preprocess.local.Transforms;
import dev.d2v.train.checkpoint.CheckpointManifest;
import dev.d2v.train.config.Data2VecConfig;
import dev.d2v.train.model.Readout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every run's config is built and checked before anything trains; an error names the option and key. */
class AblationPlanTest {

    static AblationSettings settings(List<String> fixed, String... vary) {
        return settings(FrozenFeatureProbes.DEFAULT_READOUT, fixed, vary);
    }

    static AblationSettings settings(Readout readout, List<String> fixed, String... vary) {
        EvaluationSettings eval = new EvaluationSettings(List.of("mnist"), 0, 0, null, false, false, null, readout, 1.0, 0,
                EvaluationSettings.Follow.defaults(), new Properties(), Topics.defaults(), null);
        return new AblationSettings(Modality.IMAGE, "mnist", new DataContext(Path.of("cache"), 1, 0, l -> {}), null, 8,
                "cpu", Transforms.defaults(), fixed, List.of(vary).stream().map(Factor::parse).toList(), List.of(1L, 2L), 10L, null, null, 5,
                Path.of("sweep"), "cpu", null, eval);
    }

    @Test
    void oneRunPerVariantAndSeedInGridOrder() {
        AblationPlan plan = AblationPlan.of(settings(List.of("optim.lr=2e-3"), "image.targets.average_top_k_layers=1,3",
                "preset=tiny,cpu"));
        assertThat(plan.runs()).extracting(r -> r.folder().toString()).containsExactly(
                "sweep/image.targets.average_top_k_layers=1,preset=tiny-seed1",
                "sweep/image.targets.average_top_k_layers=1,preset=tiny-seed2",
                "sweep/image.targets.average_top_k_layers=1,preset=cpu-seed1",
                "sweep/image.targets.average_top_k_layers=1,preset=cpu-seed2",
                "sweep/image.targets.average_top_k_layers=3,preset=tiny-seed1",
                "sweep/image.targets.average_top_k_layers=3,preset=tiny-seed2",
                "sweep/image.targets.average_top_k_layers=3,preset=cpu-seed1",
                "sweep/image.targets.average_top_k_layers=3,preset=cpu-seed2");
        AblationPlan.Run r = plan.runs().get(5);
        assertThat(r.number()).isEqualTo(6);
        assertThat(r.preset()).isEqualTo("tiny");
        assertThat(r.overrides()).containsExactly("optim.lr=2e-3", "image.targets.average_top_k_layers=3");
        assertThat(r.config().image().targets().averageTopKLayers()).isEqualTo(3);
        assertThat(r.config().optim().lr()).isEqualTo(2e-3);
        assertThat(r.config().model().depth()).isEqualTo(6); // tiny
        assertThat(plan.runs().get(6).config().model().depth()).isEqualTo(4); // cpu
        assertThat(r.targetStep(10L, null, null)).isEqualTo(10);
        assertThat(r.targetStep(null, null, null)).isEqualTo(r.config().optim().totalSteps());
        assertThat(r.targetStep(null, Duration.ofMinutes(15), null)).as("time-bound: schedules fitted, no step bound")
                .isEqualTo(Long.MAX_VALUE);
        assertThat(r.targetStep(null, Duration.ofMinutes(15), 500L)).isEqualTo(r.config().optim().totalSteps());
        assertThat(r.targetStep(40L, Duration.ofMinutes(15), null)).isEqualTo(40);
    }

    /**
     * A run folder's lines are of one readout: it is part of the settings a rerun must match, absent for the last
     * block's (so that folders made before the choice existed resume with --readout last).
     */
    @Test
    void theReadoutIsPartOfARunsSettings() {
        AblationSettings layers = settings(Readout.LAYERS, List.of());
        AblationSettings last = settings(Readout.LAST, List.of());
        AblationPlan.Run run = AblationPlan.of(layers).runs().get(0);
        assertThat(RunState.settings(layers, run).get("readout").asText()).isEqualTo("layers");
        assertThat(RunState.settings(last, run).has("readout")).isFalse();
        assertThat(RunState.settings(layers, run)).isNotEqualTo(RunState.settings(last, run));
    }

    /** init_from: scratch against a checkpoint's trunk, at the same config; a folder that is no checkpoint is refused. */
    @Test
    void initFromVariesWhereTheTrunkStarts(@TempDir Path tmp) throws IOException {
        Path checkpoint = Files.createDirectories(tmp.resolve("step-000000010"));
        Files.writeString(checkpoint.resolve(CheckpointManifest.FILE), "{}");
        AblationPlan plan = AblationPlan.of(settings(List.of(), "init_from=scratch," + checkpoint));
        assertThat(plan.runs()).hasSize(4);
        AblationPlan.Run scratch = plan.runs().get(0);
        AblationPlan.Run transfer = plan.runs().get(2);
        assertThat(scratch.variant().initFrom()).isNull();
        assertThat(transfer.variant().initFrom()).isEqualTo(checkpoint);
        assertThat(transfer.overrides()).isEmpty();
        assertThat(transfer.config()).isEqualTo(scratch.config());
        assertThat(RunState.settings(settings(List.of(), "init_from=scratch," + checkpoint), transfer).get("init_from").asText())
                .isEqualTo(checkpoint.toAbsolutePath().normalize().toString());
        assertThat(RunState.settings(settings(List.of(), "init_from=scratch," + checkpoint), scratch).has("init_from")).isFalse();
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "init_from=scratch," + tmp)))
                .hasMessageStartingWith("--vary init_from=" + tmp + ": not a checkpoint folder");
    }

    @Test
    void transformKeysGoToTheRunsTransformsAndTheRestToTheModel() {
        AblationPlan plan = AblationPlan.of(settings(List.of("transforms.image.cropScaleMin=0.4", "optim.lr=2e-3"),
                "transforms.image.flipProbability=0,0.5"));
        assertThat(plan.runs()).hasSize(4);
        AblationPlan.Run noFlip = plan.runs().get(0);
        assertThat(noFlip.folder().toString()).isEqualTo("sweep/transforms.image.flipProbability=0-seed1");
        assertThat(noFlip.transforms().image().flipProbability()).isZero();
        assertThat(noFlip.transforms().image().cropScaleMin()).isEqualTo(0.4);
        assertThat(noFlip.transforms().audio()).isEqualTo(Transforms.defaults().audio());
        assertThat(noFlip.config()).isEqualTo(Data2VecConfig.cpu().withOverrides(List.of("optim.lr=2e-3")));
        assertThat(plan.runs().get(2).transforms().image().flipProbability()).isEqualTo(0.5);

        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "transforms.image.flip=0,1")))
                .hasMessageStartingWith("--vary transforms.image.flip=0: ").hasMessageContaining("no key 'flip'");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "transforms.image.flipProbability=2")))
                .hasMessageStartingWith("--vary transforms.image.flipProbability=2: ").hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "transforms.audio.mels=40,64")))
                .hasMessageContaining("the runs train image only");
    }

    @Test
    void aBadKeyIsNamedWithItsOption() {
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "image.targets.top_k=1,2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--vary image.targets.top_k=1: ")
                .hasMessageContaining("no key 'top_k'");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "optim.lr=fast")))
                .hasMessageStartingWith("--vary optim.lr=fast: ");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "preset=huge")))
                .hasMessageStartingWith("--vary preset=huge: ").hasMessageContaining("unknown preset");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of("model.width=3"), "optim.lr=1e-3")))
                .hasMessageStartingWith("--set: ");
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "audio.targets.average_top_k_layers=1")))
                .hasMessageContaining("the runs train image only");
    }

    @Test
    void aValueOnlySomePresetsAcceptFailsOnlyInItsCombination() {
        // tiny has 6 main blocks, cpu 4: K = 6 is a fine value, but not with the cpu preset
        assertThat(AblationPlan.of(settings(List.of(), "preset=tiny", "image.targets.average_top_k_layers=6")).runs()).hasSize(2);
        assertThatThrownBy(() -> AblationPlan.of(settings(List.of(), "preset=tiny,cpu", "image.targets.average_top_k_layers=6")))
                .hasMessageStartingWith("variant preset=cpu,image.targets.average_top_k_layers=6: ")
                .hasMessageContaining("exceeds the 4 main blocks");
    }

    @Test
    void defaultNameSaysWhatVaries() {
        assertThat(AblationSettings.defaultName(Modality.IMAGE, "mnist", List.of(Factor.parse("image.targets.average_top_k_layers=1,2"))))
                .isEqualTo("image-mnist-average_top_k_layers");
        assertThat(AblationSettings.defaultName(Modality.IMAGE, "/data/shapes", List.of(Factor.parse("preset=tiny,cpu"),
                Factor.parse("optim.lr=1e-3")))).isEqualTo("image-shapes-preset+lr");
        assertThat(AblationSettings.defaultName(Modality.TEXT, "wordnet", List.of())).isEqualTo("text-wordnet-seeds");
    }

    @Test
    void runStateReadBackEqualsTheSettingsItWasWrittenFrom(@TempDir Path dir) throws IOException {
        AblationSettings s = settings(List.of("optim.lr=2e-3"), "image.targets.average_top_k_layers=1,3");
        AblationPlan.Run run = AblationPlan.of(s).runs().get(1);
        RunState.start(s, run).withChunksDone(2).write(dir);
        RunState back = RunState.read(dir).orElseThrow();
        assertThat(back.settings()).isEqualTo(RunState.start(s, run).settings());
        assertThat(back.chunksDone()).isEqualTo(2);
        assertThat(back.pretrained()).isFalse();
        assertThat(back.settings().get("seed").asLong()).isEqualTo(2);
        assertThat(RunState.read(dir.resolve("none"))).isEmpty();
        Files.writeString(dir.resolve(RunState.FILE), "{\"version\": 9, \"kind\": \"ablate-run\"}");
        assertThatThrownBy(() -> RunState.read(dir)).hasMessageContaining("unknown run state version 9");
    }
}
