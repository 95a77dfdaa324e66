package dev.d2v.preprocess.transform.image;

import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
import java.util.SplittableRandom;

/**
 * Encoded image bytes to a uint8 CHW tensor of config.channels() x config.size() x config.size().
 * TRAIN: RandomResizedCrop (torchvision's algorithm) then a horizontal flip with flipProbability, both
 * drawn from a generator seeded by (sampleId, epoch). EVAL: the centred largest square resized to
 * size x size; no randomness.
 */
public final class ImageTransform {

    private final ImageTransformConfig config;

    public ImageTransform(ImageTransformConfig config) {
        this.config = config;
    }

    public ImageTransformConfig config() {
        return config;
    }

    /**
     * @return byte[C * H * W], index c*H*W + y*W + x, unsigned 0..255 (read as b & 0xff)
     * @throws dev.d2v.preprocess.transform.BadRecordException empty, oversized, undecodable-image, image-too-large
     */
    public byte[] apply(byte[] encoded, String sampleId, long epoch, Mode mode) {
        ImageDecoder.Planes img = ImageDecoder.decode(encoded, config.channels(), config.maxPixels(), config.maxBytes());
        Resize.Box box;
        boolean flip = false;
        if (mode == Mode.TRAIN) {
            SplittableRandom rng = new SplittableRandom(StableHash.seed(sampleId, epoch));
            box = randomResizedCrop(img.width(), img.height(), config, rng);
            flip = rng.nextDouble() < config.flipProbability();
        } else {
            box = centreSquare(img.width(), img.height());
        }
        return toChw(img, box, flip, config.size());
    }

    /** Crops, resizes and optionally flips each plane; rounds and clamps to uint8. */
    static byte[] toChw(ImageDecoder.Planes img, Resize.Box box, boolean flip, int size) {
        int c = img.planes().length;
        byte[] out = new byte[c * size * size];
        for (int ch = 0; ch < c; ch++) {
            float[] plane = Resize.resample(img.planes()[ch], img.width(), img.height(), box, size, size);
            int base = ch * size * size;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int sx = flip ? size - 1 - x : x;
                    int v = Math.round(plane[y * size + sx]);
                    out[base + y * size + x] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return out;
    }

    /** The largest centred square: evaluation keeps the aspect ratio and the middle of the image. */
    static Resize.Box centreSquare(int w, int h) {
        int side = Math.min(w, h);
        return new Resize.Box((w - side) / 2, (h - side) / 2, side, side);
    }

    /**
     * torchvision RandomResizedCrop.get_params: up to 10 tries of (area fraction ~ U(scale),
     * log-aspect ~ U(log ratio)); a fitting box is placed uniformly. Otherwise a centred crop with the
     * aspect ratio clamped into the range.
     */
    static Resize.Box randomResizedCrop(int w, int h, ImageTransformConfig cfg, SplittableRandom rng) {
        double area = (double) w * h;
        double logLo = Math.log(cfg.cropRatioMin());
        double logHi = Math.log(cfg.cropRatioMax());
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * uniform(rng, cfg.cropScaleMin(), cfg.cropScaleMax());
            double aspect = Math.exp(uniform(rng, logLo, logHi));
            int cw = (int) Math.round(Math.sqrt(target * aspect));
            int ch = (int) Math.round(Math.sqrt(target / aspect));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int top = rng.nextInt(h - ch + 1);
                int left = rng.nextInt(w - cw + 1);
                return new Resize.Box(left, top, cw, ch);
            }
        }
        double inRatio = (double) w / h;
        int cw;
        int ch;
        if (inRatio < cfg.cropRatioMin()) {
            cw = w;
            ch = (int) Math.round(w / cfg.cropRatioMin());
        } else if (inRatio > cfg.cropRatioMax()) {
            ch = h;
            cw = (int) Math.round(h * cfg.cropRatioMax());
        } else {
            cw = w;
            ch = h;
        }
        cw = Math.max(1, Math.min(w, cw));
        ch = Math.max(1, Math.min(h, ch));
        return new Resize.Box((w - cw) / 2, (h - ch) / 2, cw, ch);
    }

    private static double uniform(SplittableRandom rng, double lo, double hi) {
        return lo == hi ? lo : lo + (hi - lo) * rng.nextDouble();
    }
}
