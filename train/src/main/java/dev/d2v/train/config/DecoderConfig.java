package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * The student-only decoder (data2vec 2.0): layers of Conv(k, groups) -> LayerNorm(no affine) -> GELU with a
 * residual where widths match, then a projection to D.
 *
 * @param convDecoder       true: the conv decoder; false: a transformer decoder (for the speed comparison)
 * @param dim               decoder width
 * @param layers            conv (or transformer) layers
 * @param kernel            conv kernel, odd so that padding k/2 keeps the length
 * @param groups            conv groups; dim must be a multiple
 * @param residual          residual around each layer (text: none)
 * @param projectionLayers  1: Linear to D; 2: Linear-GELU-Linear (text)
 */
public record DecoderConfig(
        @JsonProperty("conv_decoder") boolean convDecoder,
        int dim,
        int layers,
        int kernel,
        int groups,
        boolean residual,
        @JsonProperty("projection_layers") int projectionLayers) {

    public DecoderConfig {
        require(dim > 0 && layers > 0, "decoder.dim and decoder.layers must be > 0, got " + dim + ", " + layers);
        require(kernel > 0 && kernel % 2 == 1, "decoder.kernel must be odd and > 0 (padding k/2 keeps the length), got " + kernel);
        require(groups > 0 && dim % groups == 0, "decoder.dim " + dim + " must be a multiple of decoder.groups " + groups);
        require(projectionLayers == 1 || projectionLayers == 2, "decoder.projection_layers must be 1 or 2, got " + projectionLayers);
    }

    /** Reference base decoder, its width scaled by modelDim / 768 (and kept a multiple of the groups). */
    public static DecoderConfig reference(Modality m, int modelDim) {
        return switch (m) {
            case IMAGE -> new DecoderConfig(true, scaled(768, modelDim, 16), 6, 3, 16, true, 1);
            case AUDIO -> new DecoderConfig(true, scaled(384, modelDim, 16), 4, 7, 16, true, 1);
            case TEXT -> new DecoderConfig(true, scaled(768, modelDim, 1), 5, 9, 1, false, 2);
        };
    }

    static int scaled(int base, int modelDim, int multiple) {
        int d = (int) Math.round((double) base * modelDim / 768 / multiple) * multiple;
        return Math.max(multiple, d);
    }
}
