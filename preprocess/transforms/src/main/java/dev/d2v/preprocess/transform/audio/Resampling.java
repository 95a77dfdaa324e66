package dev.d2v.preprocess.transform.audio;

import be.tarsos.dsp.resample.Resampler;

/**
 * Sample-rate conversion with TarsosDSP's resampler (a port of libresample: band-limited windowed-sinc
 * interpolation with a low-pass at min(in, out) Nyquist, so downsampling does not alias).
 */
public final class Resampling {

    private Resampling() {}

    /**
     * @param x mono samples at fromRate
     * @return mono samples at toRate, length round(x.length * toRate / fromRate)
     */
    public static float[] resample(float[] x, int fromRate, int toRate) {
        if (fromRate == toRate) {
            return x;
        }
        double factor = (double) toRate / fromRate;
        int expected = (int) Math.round(x.length * factor);
        float[] out = new float[expected + 64];
        Resampler r = new Resampler(true, factor, factor); // high quality: the longer sinc filter
        int inPos = 0;
        int outPos = 0;
        // the resampler may stop early when its output buffer or internal buffer fills: call until drained
        for (int guard = 0; guard < 10_000 && outPos < out.length; guard++) {
            Resampler.Result res = r.process(factor, x, inPos, x.length - inPos, true, out, outPos, out.length - outPos);
            inPos += res.inputSamplesConsumed;
            outPos += res.outputSamplesGenerated;
            if (res.inputSamplesConsumed == 0 && res.outputSamplesGenerated == 0) {
                break;
            }
        }
        float[] y = new float[expected];
        System.arraycopy(out, 0, y, 0, Math.min(expected, outPos));
        return y;
    }
}
