package dev.d2v.preprocess.transform.audio;

import be.tarsos.dsp.util.fft.FFT;
import be.tarsos.dsp.util.fft.HannWindow;
import be.tarsos.dsp.util.fft.WindowFunction;
import java.util.Arrays;

/**
 * Log-mel spectrogram: frame t covers samples [t * hop, t * hop + window) (no centre padding, Kaldi's
 * snip-edges convention, so n samples give 1 + (n - window) / hop frames); Hann window (TarsosDSP), zero
 * padded to fftSize, TarsosDSP FFT, power |X|^2, HTK mel filterbank, ln(power + 1e-10).
 * The window's coefficients are TarsosDSP's, taken once (its {@code apply} computes a cosine per sample and frame);
 * windowing and zero padding are one pass into the FFT buffer, and no buffer is allocated per frame.
 * Not thread-safe (reuses buffers): one instance per operator thread.
 */
public final class LogMel {

    static final float EPS = 1e-10f; // log floor: -23 for silent bands

    private final AudioTransformConfig cfg;
    private final MelFilterbank bank;
    private final FFT fft;
    private final float[] window;
    private final float[] spectrum;
    private final float[] power;
    private final float[] bands;

    public LogMel(AudioTransformConfig cfg) {
        this.cfg = cfg;
        this.bank = new MelFilterbank(cfg.mels(), cfg.fftSize(), cfg.sampleRate(), cfg.fMinHz(), cfg.fMaxHz());
        this.fft = new FFT(cfg.fftSize()); // no window here: it would span the zero padding too
        this.window = coefficients(new HannWindow(), cfg.windowSize());
        this.spectrum = new float[cfg.fftSize()];
        this.power = new float[cfg.fftSize() / 2 + 1];
        this.bands = new float[cfg.mels()];
    }

    /** A window function's n coefficients: it applied to ones, so that x * w[i] is what it computes for x. */
    static float[] coefficients(WindowFunction f, int n) {
        float[] w = new float[n];
        Arrays.fill(w, 1f);
        f.apply(w);
        return w;
    }

    public MelFilterbank filterbank() {
        return bank;
    }

    /** Frames in n samples: 1 + (n - window) / hop, and 0 when n < window. */
    public static int frameCount(long n, int window, int hop) {
        return n < window ? 0 : (int) Math.min(Integer.MAX_VALUE, 1 + (n - window) / hop);
    }

    /**
     * @param x mono samples at cfg.sampleRate(), x.length >= window + (nFrames - 1) * hop
     * @return float[nFrames * mels], frame-major: value (t, m) at t * mels + m
     */
    public float[] compute(float[] x, int nFrames) {
        int mels = cfg.mels();
        int n = window.length;
        float[] out = new float[nFrames * mels];
        for (int t = 0; t < nFrames; t++) {
            int from = t * cfg.hop();
            for (int i = 0; i < n; i++) {
                spectrum[i] = x[from + i] * window[i];
            }
            Arrays.fill(spectrum, n, spectrum.length, 0f);   // the FFT leaves its result in place
            fft.forwardTransform(spectrum);
            powerSpectrum(spectrum, power);
            bank.apply(power, bands);
            for (int m = 0; m < mels; m++) {
                out[t * mels + m] = (float) Math.log(bands[m] + EPS);
            }
        }
        return out;
    }

    /**
     * Power of a real FFT in JTransforms' packed layout (a[0] = Re 0, a[1] = Re n/2, a[2k], a[2k+1] =
     * Re k, Im k). TarsosDSP's modulus() reads bin 0 as (a[0], a[1]), mixing DC with Nyquist, hence this.
     * @param packed float[n]; @param out float[n / 2 + 1]
     */
    static void powerSpectrum(float[] packed, float[] out) {
        int n = packed.length;
        out[0] = packed[0] * packed[0];
        out[n / 2] = packed[1] * packed[1];
        for (int k = 1; k < n / 2; k++) {
            float re = packed[2 * k];
            float im = packed[2 * k + 1];
            out[k] = re * re + im * im;
        }
    }

    /** In place: (v - mean) / std over the first validValues entries; std floored at 1e-5. */
    public static void normalise(float[] v, int validValues) {
        if (validValues == 0) {
            return;
        }
        double sum = 0;
        for (int i = 0; i < validValues; i++) {
            sum += v[i];
        }
        double mean = sum / validValues;
        double sq = 0;
        for (int i = 0; i < validValues; i++) {
            sq += (v[i] - mean) * (v[i] - mean);
        }
        double std = Math.max(1e-5, Math.sqrt(sq / validValues));
        for (int i = 0; i < validValues; i++) {
            v[i] = (float) ((v[i] - mean) / std);
        }
    }
}
