package dev.d2v.preprocess.transform.image;

/**
 * Separable resampling of a box of a plane with a triangle (bilinear) filter whose support widens with
 * the downscale factor, as PIL's antialiased BILINEAR: downscaling averages all covered pixels instead of
 * aliasing, upscaling is plain bilinear interpolation.
 */
public final class Resize {

    private Resize() {}

    /** A crop box in source pixels: columns [left, left+width), rows [top, top+height). */
    public record Box(int left, int top, int width, int height) {
        public Box {
            if (width < 1 || height < 1) {
                throw new IllegalArgumentException("crop box must be non-empty, got " + width + "x" + height);
            }
        }
    }

    /** Filter taps for one output coordinate: source indices first..first+weights.length-1. */
    record Taps(int first, float[] weights) {}

    /**
     * Taps for each of outLen outputs covering source [start, start+len) of a line of srcLen pixels.
     * Output o is centred at source coordinate start + (o + 0.5) * len / outLen.
     */
    static Taps[] taps(int srcLen, int start, int len, int outLen) {
        double scale = (double) len / outLen;
        double support = Math.max(scale, 1.0); // triangle radius in source pixels
        Taps[] out = new Taps[outLen];
        for (int o = 0; o < outLen; o++) {
            double centre = start + (o + 0.5) * scale;
            int lo = Math.max(0, (int) Math.floor(centre - support));
            int hi = Math.min(srcLen - 1, (int) Math.ceil(centre + support));
            float[] w = new float[hi - lo + 1];
            double sum = 0;
            for (int i = lo; i <= hi; i++) {
                double t = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / support);
                w[i - lo] = (float) t;
                sum += t;
            }
            if (sum == 0) { // cannot happen for a box inside the image; kept as nearest-neighbour fallback
                int nearest = Math.min(srcLen - 1, Math.max(0, (int) centre));
                out[o] = new Taps(nearest, new float[] {1f});
                continue;
            }
            for (int k = 0; k < w.length; k++) {
                w[k] /= (float) sum;
            }
            out[o] = new Taps(lo, w);
        }
        return out;
    }

    /**
     * Resamples box of plane (srcW x srcH, row-major) to outW x outH.
     * @return float[outH * outW], row-major
     */
    public static float[] resample(float[] plane, int srcW, int srcH, Box box, int outW, int outH) {
        Taps[] tx = taps(srcW, box.left(), box.width(), outW);
        Taps[] ty = taps(srcH, box.top(), box.height(), outH);
        // horizontal pass over all source rows the vertical taps touch: tmp[y][ox]
        float[] tmp = new float[srcH * outW];
        int rowLo = ty[0].first();
        int rowHi = ty[outH - 1].first() + ty[outH - 1].weights().length - 1;
        for (int y = rowLo; y <= rowHi; y++) {
            for (int ox = 0; ox < outW; ox++) {
                Taps t = tx[ox];
                float acc = 0;
                for (int k = 0; k < t.weights().length; k++) {
                    acc += t.weights()[k] * plane[y * srcW + t.first() + k];
                }
                tmp[y * outW + ox] = acc;
            }
        }
        float[] out = new float[outH * outW];
        for (int oy = 0; oy < outH; oy++) {
            Taps t = ty[oy];
            for (int ox = 0; ox < outW; ox++) {
                float acc = 0;
                for (int k = 0; k < t.weights().length; k++) {
                    acc += t.weights()[k] * tmp[(t.first() + k) * outW + ox];
                }
                out[oy * outW + ox] = acc;
            }
        }
        return out;
    }
}
