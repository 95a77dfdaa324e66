package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.infra.Modality;
import dev.d2v.infra.config.DottedOverrides;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The whole data2vec 2.0 trainer configuration: a shared encoder, one section per trained modality (null = not
 * trained), the teacher EMA, the optimiser and the collapse guard. Presets: {@link #tiny()}, {@link #small()},
 * {@link #base()}, {@link #large()} (the usual transformer sizes) and {@link #cpu()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Data2VecConfig(
        ModelConfig model,
        ModalityConfig image,
        ModalityConfig audio,
        ModalityConfig text,
        EmaConfig ema,
        OptimConfig optim,
        @JsonProperty("collapse_guard") CollapseGuardConfig collapseGuard) {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .build();

    public Data2VecConfig {
        require(model != null && ema != null && optim != null, "model, ema and optim sections are required");
        collapseGuard = collapseGuard == null ? CollapseGuardConfig.reference() : collapseGuard;
        require(image != null || audio != null || text != null, "configure at least one of image, audio, text");
        for (Modality m : Modality.values()) {
            ModalityConfig c = pick(m, image, audio, text);
            if (c != null) {
                checkAgainstModel(m, c, model);
            }
        }
    }

    private static void checkAgainstModel(Modality m, ModalityConfig c, ModelConfig model) {
        c.localEncoder().check(m);
        int main = model.depth() - c.prenetDepth();
        require(main >= 1, m.id() + ".prenet_depth " + c.prenetDepth() + " leaves no main blocks of model.depth " + model.depth());
        require(c.targets().averageTopKLayers() <= main, m.id() + ".targets.average_top_k_layers "
                + c.targets().averageTopKLayers() + " exceeds the " + main + " main blocks");
        require(!c.packRows() || m == Modality.TEXT, m.id() + ".pack_rows: only text rows can be packed");
        require(c.embedLrScale() == 1.0 || m == Modality.TEXT, m.id() + ".embed_lr_scale: only text has a token "
                + "embedding table");
    }

    private static ModalityConfig pick(Modality m, ModalityConfig image, ModalityConfig audio, ModalityConfig text) {
        return switch (m) {
            case IMAGE -> image;
            case AUDIO -> audio;
            case TEXT -> text;
        };
    }

    /** The section for m, or null when m is not trained. */
    public ModalityConfig modality(Modality m) {
        return pick(m, image, audio, text);
    }

    /** Trained modalities in wire-id order. */
    @JsonIgnore
    public List<Modality> modalities() {
        List<Modality> out = new ArrayList<>();
        for (Modality m : Modality.values()) {
            if (modality(m) != null) {
                out.add(m);
            }
        }
        return out;
    }

    /** This config with m's section replaced (m must be configured). */
    public Data2VecConfig with(Modality m, ModalityConfig c) {
        require(modality(m) != null, m.id() + " is not configured");
        return new Data2VecConfig(model, m == Modality.IMAGE ? c : image, m == Modality.AUDIO ? c : audio,
                m == Modality.TEXT ? c : text, ema, optim, collapseGuard);
    }

    /** This config with another optimiser section (step counts for a run). */
    public Data2VecConfig withOptim(OptimConfig o) {
        return new Data2VecConfig(model, image, audio, text, ema, o, collapseGuard);
    }

    /** This config with another EMA section. */
    public Data2VecConfig withEma(EmaConfig e) {
        return new Data2VecConfig(model, image, audio, text, e, optim, collapseGuard);
    }

    /** This config with another encoder shape. */
    public Data2VecConfig withModel(ModelConfig m) {
        return new Data2VecConfig(m, image, audio, text, ema, optim, collapseGuard);
    }

    /** This config trained on the given modalities only, keeping its own EMA and optimiser sections (presets). */
    public Data2VecConfig restrictTo(Collection<Modality> keep) {
        require(keep.stream().allMatch(m -> modality(m) != null), "restrictTo " + keep + ": not all are configured in " + modalities());
        return new Data2VecConfig(model, keep.contains(Modality.IMAGE) ? image : null,
                keep.contains(Modality.AUDIO) ? audio : null, keep.contains(Modality.TEXT) ? text : null, ema, optim,
                collapseGuard);
    }

    /**
     * The schedules stretched (or shrunk) to a run of totalSteps optimizer steps: warm-up and the tau anneal keep
     * their share of the run, so that lr and tau stay synchronised (an anneal that ends before the warm-up does, or long after the run, trains badly).
     */
    public Data2VecConfig forSteps(long totalSteps) {
        require(totalSteps >= 1, "a run needs at least 1 step, got " + totalSteps);
        double f = (double) totalSteps / optim.totalSteps();
        long warmup = Math.min(totalSteps - 1, Math.round(optim.warmupSteps() * f));
        OptimConfig o = new OptimConfig(optim.lr(), optim.beta1(), optim.beta2(), optim.weightDecay(), warmup, totalSteps,
                optim.minLrRatio(), optim.clipGradNorm());
        EmaConfig e = new EmaConfig(ema.tauStart(), ema.tauEnd(), Math.max(1, Math.round(ema.annealSteps() * f)),
                ema.schedule(), ema.afterWarmup());
        return new Data2VecConfig(model, image, audio, text, e, o, collapseGuard);
    }

    /** This config trained on m alone, with m's reference EMA and optimiser (the table's per-modality columns). */
    public Data2VecConfig only(Modality m) {
        ModalityConfig c = modality(m);
        require(c != null, m.id() + " is not configured");
        return new Data2VecConfig(model, m == Modality.IMAGE ? c : null, m == Modality.AUDIO ? c : null,
                m == Modality.TEXT ? c : null, EmaConfig.reference(m), OptimConfig.reference(m), collapseGuard);
    }

    // ---- presets: the usual transformer widths and depths, the rest from the reference ----

    public static Data2VecConfig tiny() {
        return preset(new ModelConfig(192, 6, 3, 4.0, 0.0), 0);
    }

    public static Data2VecConfig small() {
        return preset(new ModelConfig(384, 8, 6, 4.0, 0.0), 0);
    }

    /** Reference base: image 2 prenet + 10 main blocks, audio and text 12 main blocks. */
    public static Data2VecConfig base() {
        return preset(new ModelConfig(768, 12, 12, 4.0, 0.0), 2);
    }

    public static Data2VecConfig large() {
        return preset(new ModelConfig(1024, 24, 16, 4.0, 0.0), 0);
    }

    /**
     * Trains in minutes on 2 CPU cores: 28x28 images in 4x4 patches (a 7x7 grid, 49 tokens), a 4-block encoder of
     * width 192 (the tiny preset's width), a 2-layer decoder, 4 clones per sample, a few hundred steps. Width 192
     * rather than 128: a linear probe reads the mean-pooled width-D vector, and at 128 it saturated at 83.0% on
     * Fashion-MNIST however long the run (1072 and 1366 steps alike, teacher or student); 192 reached 84.4% in 724
     * steps of a 15-minute budget (README "Quality"), each step about 1.7x the time of a 128-wide one.
     */
    public static Data2VecConfig cpu() {
        ModelConfig model = new ModelConfig(192, 4, 4, 4.0, 0.0);
        ModalityConfig image = new ModalityConfig(0,
                // 0.6 on 49 tokens leaves 19 visible; 0.8 would leave 9, too few for a 7x7 grid to learn from
                new MaskingConfig(MaskKind.BLOCK_2D, 0.6, 2, 0.07, true), 4,
                new DecoderConfig(true, 64, 2, 3, 8, true, 1),
                TargetConfig.reference(Modality.IMAGE, 4), LossConfig.reference(Modality.IMAGE),
                LocalEncoderConfig.image(1, 28, 4))
                // images at twice the optimiser's rate: Fashion-MNIST, 243 steps x 256, two seeds (with the milder
                // crops of the image transform's defaults) linear 86.8 / 87.2 against 85.9 / 85.5 at 3e-3, k-NN 79.9 /
                // 80.7 against 77.3 / 77.5 (README "Quality"); text collapses at such rates, so the rate is the
                // image section's own
                .withLr(6e-3);
        // audio and text: targets centred per position, or a fast teacher turns them into a function of position
        // (train/TRAIN.md, "Position-centred targets"); images keep the reference's (centring cost MNIST 2 points)
        ModalityConfig audio = new ModalityConfig(0, MaskingConfig.reference(Modality.AUDIO), 4,
                new DecoderConfig(true, 64, 2, 5, 8, true, 1),
                centred(TargetConfig.reference(Modality.AUDIO, 4)), LossConfig.reference(Modality.AUDIO),
                LocalEncoderConfig.audio(80, 200, 16));
        // text rows packed as the reference's corpus blocks: 3.5x the samples per second on WordNet glosses; the
        // token table at 30x the rate: in 300 steps WordNet's linear probe reads 48.7% instead of 42.9% (random
        // init 41.9%), where the rows of all but the most frequent words stayed at their init (README "Quality")
        ModalityConfig text = new ModalityConfig(0, MaskingConfig.reference(Modality.TEXT), 4,
                new DecoderConfig(true, 64, 2, 5, 1, false, 2),
                centred(TargetConfig.reference(Modality.TEXT, 4)), LossConfig.reference(Modality.TEXT),
                LocalEncoderConfig.text(31_029, 64)).withPackRows(true).withEmbedLrScale(30);
        // a short run: tau climbs fast enough that the teacher still moves within 300 steps
        EmaConfig ema = new EmaConfig(0.99, 0.999, 270, EmaSchedule.COSINE, true);
        // lr 3e-3, not the reference's 1e-3: in a few hundred steps the weights barely leave their init at 1e-3 (text
        // probes like random init); 3e-3 keeps the linear probe and adds k-NN points on images and audio, 1e-2
        // collapses text (README "Quality"). Images take their own, image.lr above
        OptimConfig optim = new OptimConfig(3e-3, 0.9, 0.95, 0.05, 30, 300, 0.01, 4.0);
        // 300 steps are too few for the reference's 5000-step delay; check from step 100, warn only
        CollapseGuardConfig guard = new CollapseGuardConfig(0.1, 0.01, 100, false);
        return new Data2VecConfig(model, image, audio, text, ema, optim, guard);
    }

    private static TargetConfig centred(TargetConfig t) {
        return new TargetConfig(t.averageTopKLayers(), t.instanceNorm(), t.finalNorm(), true);
    }

    private static Data2VecConfig preset(ModelConfig model, int imagePrenet) {
        return new Data2VecConfig(model,
                ModalityConfig.reference(Modality.IMAGE, model, imagePrenet, ModalityConfig.referenceMultiMask(Modality.IMAGE)),
                ModalityConfig.reference(Modality.AUDIO, model, 0, ModalityConfig.referenceMultiMask(Modality.AUDIO)),
                ModalityConfig.reference(Modality.TEXT, model, 0, ModalityConfig.referenceMultiMask(Modality.TEXT)),
                // image is the primary column; only(m) switches to another modality's values
                EmaConfig.reference(Modality.IMAGE), OptimConfig.reference(Modality.IMAGE),
                CollapseGuardConfig.reference());
    }

    /** Preset by name: tiny, small, base, large, cpu. */
    public static Data2VecConfig preset(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "small" -> small();
            case "base" -> base();
            case "large" -> large();
            case "cpu" -> cpu();
            default -> throw new IllegalArgumentException("unknown preset '" + name + "': expected tiny, small, base, large or cpu");
        };
    }

    // ---- JSON (the checkpoint stores its config this way; YAML maps onto the same keys) ----

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write config as JSON", e);
        }
    }

    /** "cpu", or "cpu with model.dim=192, optim.lr=5e-4": a preset and its overrides, for start lines and reports. */
    public static String describe(String preset, List<String> overrides) {
        return overrides.isEmpty() ? preset : preset + " with " + String.join(", ", overrides);
    }

    /**
     * This config with dotted-path assignments applied, as the reference code's Hydra overrides:
     * {@code model.dim=192}, {@code image.masking.mask_ratio=0.7}, {@code optim.lr=5e-4}. A key must name a field that
     * exists (the error lists the ones at that level); the value takes the type of the field it replaces (a number, a
     * boolean, a string, or JSON for a section); the result is validated like any config.
     */
    public Data2VecConfig withOverrides(List<String> assignments) {
        if (assignments == null || assignments.isEmpty()) {
            return this;
        }
        try {
            ObjectNode tree = (ObjectNode) JSON.readTree(toJson());
            return fromJson(DottedOverrides.apply(tree, assignments, "model.dim=192").toString());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid override value: " + e.getOriginalMessage(), e);
        }
    }

    public static Data2VecConfig fromJson(String json) {
        try {
            return JSON.readValue(json, Data2VecConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid data2vec config: " + e.getOriginalMessage(), e);
        }
    }
}
