package dev.d2v.preprocess.transform.image;

import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.TransformConfig;

/** Image transform settings. Output is uint8 CHW of channels x size x size. */
public record ImageTransformConfig(
        // 1 = grayscale (MNIST-like data, the local demo); 3 = RGB
        int channels,
        // output side in pixels: 28 matches MNIST and keeps CPU training fast
        int size,
        // decompression-bomb guard, checked from the header before decoding: 40 MP covers camera photos
        // while refusing the 10^10-pixel headers that would need tens of GB of heap
        long maxPixels,
        // larger encoded records are refused before parsing; 20 MB is far above any sane PNG/JPEG sample
        long maxBytes,
        // RandomResizedCrop area range as a fraction of the image: torchvision's (0.08, 1) is tuned for
        // ImageNet; data2vec/MAE use 0.2 so a crop still holds most of the object. The default 0.6 is for the
        // default 28-pixel side: a crop of a fifth of a 28 x 28 image is 12 pixels wide, and blown up to 28 it loses
        // what tells a shirt from a coat; on Fashion-MNIST 0.6 added 1.4 k-NN points (README "Quality")
        double cropScaleMin,
        double cropScaleMax,
        // aspect ratio range of the crop, torchvision's default 3/4..4/3
        double cropRatioMin,
        double cropRatioMax,
        // probability of a horizontal flip for training records. torchvision's and the reference's ImageNet
        // recipe flip half the images; the default is 0: a mirrored digit is no digit (MNIST linear probe 97.0%
        // without flips, 96.5% with), and on Fashion-MNIST the flips bought nothing at the CPU budget (README
        // "Quality"). 0.5 gives back the ImageNet recipe for photos of mirror-symmetric objects
        double flipProbability) implements TransformConfig {

    public ImageTransformConfig {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("image channels must be 1 or 3, got " + channels);
        }
        if (size < 1 || size > 4096) {
            throw new IllegalArgumentException("image size must be 1..4096, got " + size);
        }
        if (maxPixels < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("image maxPixels and maxBytes must be positive");
        }
        if (!(cropScaleMin > 0 && cropScaleMin <= cropScaleMax && cropScaleMax <= 1)) {
            throw new IllegalArgumentException("image crop scale needs 0 < min <= max <= 1, got "
                    + cropScaleMin + ".." + cropScaleMax);
        }
        if (!(cropRatioMin > 0 && cropRatioMin <= cropRatioMax)) {
            throw new IllegalArgumentException("image crop ratio needs 0 < min <= max, got "
                    + cropRatioMin + ".." + cropRatioMax);
        }
        if (!(flipProbability >= 0 && flipProbability <= 1)) {
            throw new IllegalArgumentException("image flipProbability must be in [0, 1], got " + flipProbability);
        }
    }

    public static ImageTransformConfig defaults() {
        return new ImageTransformConfig(1, 28, 40_000_000L, 20L << 20, 0.6, 1.0, 3.0 / 4, 4.0 / 3, 0);
    }

    public ImageTransformConfig withChannels(int c) {
        return new ImageTransformConfig(c, size, maxPixels, maxBytes, cropScaleMin, cropScaleMax,
                cropRatioMin, cropRatioMax, flipProbability);
    }

    public ImageTransformConfig withSize(int s) {
        return new ImageTransformConfig(channels, s, maxPixels, maxBytes, cropScaleMin, cropScaleMax,
                cropRatioMin, cropRatioMax, flipProbability);
    }

    public ImageTransformConfig withLimits(long pixels, long bytes) {
        return new ImageTransformConfig(channels, size, pixels, bytes, cropScaleMin, cropScaleMax,
                cropRatioMin, cropRatioMax, flipProbability);
    }

    public ImageTransformConfig withCropScale(double min, double max) {
        return new ImageTransformConfig(channels, size, maxPixels, maxBytes, min, max,
                cropRatioMin, cropRatioMax, flipProbability);
    }

    public ImageTransformConfig withFlipProbability(double p) {
        return new ImageTransformConfig(channels, size, maxPixels, maxBytes, cropScaleMin, cropScaleMax,
                cropRatioMin, cropRatioMax, p);
    }

    /**
     * Stable hash of everything that changes the output. The limits (maxPixels, maxBytes) only decide
     * which records are accepted, not what an accepted record becomes, so they are left out.
     */
    @Override
    public long hash() {
        return StableHash.of("image-transform", "v1", "channels=" + channels, "size=" + size,
                "scale=" + cropScaleMin + ".." + cropScaleMax, "ratio=" + cropRatioMin + ".." + cropRatioMax,
                "flip=" + flipProbability, "resize=triangle-antialias", "eval=center-square");
    }

    /** {@code [channels, size, size]}: the CHW bytes of one image. */
    @Override
    public int[] sampleShape() {
        return new int[] {channels, size, size};
    }
}
