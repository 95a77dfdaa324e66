package dev.d2v.train.config;

import static dev.d2v.train.config.ModelConfig.require;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.d2v.infra.Modality;

/**
 * The input side of one modality's local encoder: what a batch looks like, so that a checkpoint rebuilds the model
 * from its config alone. Fields of the other modalities stay 0.
 *
 * @param channels      image: 1 (grayscale) or 3 (RGB)
 * @param height        image height in pixels, a multiple of patch
 * @param width         image width in pixels, a multiple of patch
 * @param patch         image patch side: the Conv2d patch embedding's kernel and stride (16 for 224 px, 4 for 28 px)
 * @param mels          audio mel bands of the log-mel input (80, the preprocess default)
 * @param frames        audio frames per example after crop/pad (200 = 2 s at a 10 ms hop)
 * @param convChannels  audio: channels of the Conv2d stack that collapses frequency
 * @param vocabSize     text: rows of the token embedding (the vocabulary's size, specials and buckets included)
 * @param maxLength     text: learned positions, the longest block
 * @param tokenInitStd  text: std of the token table's normal init; 0 means the 0.02 of every other weight. The
 *                      reference leaves torch's nn.Embedding default, N(0, 1) (fairseq examples/data2vec,
 *                      TextLocalEncoder)
 * @param positionInitStd text: std of the learned positions' normal init; 0 means 0.02. The reference's
 *                      (fairseq LearnedPositionalEmbedding) is D^-1/2, so a token's row outweighs its position's by
 *                      sqrt(D) before the embedding LayerNorm
 */
@JsonInclude(JsonInclude.Include.NON_DEFAULT)
public record LocalEncoderConfig(
        int channels,
        int height,
        int width,
        int patch,
        int mels,
        int frames,
        @JsonProperty("conv_channels") int convChannels,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("max_length") int maxLength,
        @JsonProperty("token_init_std") double tokenInitStd,
        @JsonProperty("position_init_std") double positionInitStd) {

    /** The init std of every weight but the reference's tables (timm's trunc_normal_(std=.02)). */
    public static final double SMALL_INIT_STD = 0.02;

    public LocalEncoderConfig {
        require(channels >= 0 && height >= 0 && width >= 0 && patch >= 0 && mels >= 0 && frames >= 0
                && convChannels >= 0 && vocabSize >= 0 && maxLength >= 0, "local_encoder sizes must be >= 0");
        require(tokenInitStd >= 0 && positionInitStd >= 0 && Double.isFinite(tokenInitStd)
                && Double.isFinite(positionInitStd), "local_encoder init stds must be finite and >= 0 (0 = 0.02)");
    }

    public static LocalEncoderConfig image(int channels, int size, int patch) {
        return new LocalEncoderConfig(channels, size, size, patch, 0, 0, 0, 0, 0, 0, 0);
    }

    public static LocalEncoderConfig audio(int mels, int frames, int convChannels) {
        return new LocalEncoderConfig(0, 0, 0, 0, mels, frames, convChannels, 0, 0, 0, 0);
    }

    /** A text section with both tables at the 0.02 init of every other weight (written out, so `--set` finds them). */
    public static LocalEncoderConfig text(int vocabSize, int maxLength) {
        return new LocalEncoderConfig(0, 0, 0, 0, 0, 0, 0, vocabSize, maxLength, SMALL_INIT_STD, SMALL_INIT_STD);
    }

    /** This text section with the token table's and the positions' init stds (0: 0.02). */
    public LocalEncoderConfig withTextInit(double tokenStd, double positionStd) {
        return new LocalEncoderConfig(channels, height, width, patch, mels, frames, convChannels, vocabSize, maxLength,
                tokenStd, positionStd);
    }

    /** Reference inputs: 224 px RGB in 16 px patches; 80 mels x 200 frames; a 30k-word vocabulary, 512 tokens. */
    public static LocalEncoderConfig reference(Modality m) {
        return switch (m) {
            case IMAGE -> image(3, 224, 16);
            case AUDIO -> audio(80, 200, 32);
            // 5 specials + 30,000 words + 1,024 hash buckets: the preprocess defaults
            case TEXT -> text(31_029, 512);
        };
    }

    /** Checks that the fields m needs are set and consistent. */
    public void check(Modality m) {
        switch (m) {
            case IMAGE -> {
                require(channels == 1 || channels == 3, "image.local_encoder.channels must be 1 or 3, got " + channels);
                require(patch > 0 && height > 0 && width > 0 && height % patch == 0 && width % patch == 0,
                        "image.local_encoder height " + height + " and width " + width + " must be multiples of patch " + patch);
            }
            case AUDIO -> require(mels >= 4 && frames >= 2 && convChannels > 0,
                    "audio.local_encoder needs mels >= 4, frames >= 2 and conv_channels > 0, got " + mels + ", " + frames + ", " + convChannels);
            case TEXT -> require(vocabSize > 5 && maxLength > 0,
                    "text.local_encoder needs vocab_size > 5 and max_length > 0, got " + vocabSize + ", " + maxLength);
        }
    }

    /** Tokens the local encoder makes from one full-size example: the grid, half the frames, or maxLength. */
    public int tokens(Modality m) {
        return switch (m) {
            case IMAGE -> gridRows() * (width / patch);
            case AUDIO -> AudioFrames.tokens(frames);
            case TEXT -> maxLength;
        };
    }

    /** Rows of the patch grid (image); 1 for sequences. */
    @JsonIgnore
    public int gridRows() {
        return patch == 0 ? 1 : height / patch;
    }

    /** Audio time axis: the conv stack halves it (stride 2, padding 1, kernel 3: ceil(frames / 2)). */
    public static final class AudioFrames {
        private AudioFrames() {}

        public static int tokens(int frames) {
            return (frames + 1) / 2;
        }
    }
}
