package dev.d2v.preprocess.transform.audio;

import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * WAV bytes to a fixed-size normalised log-mel spectrogram: decode to mono, resample to cfg.sampleRate,
 * crop (TRAIN: a window of cfg.frames frames at a start seeded by (sampleId, epoch); EVAL: the first
 * cfg.frames frames) or zero-pad, log-mel, per-utterance mean/std over the valid frames.
 * Audio shorter than one window is zero-padded to one frame. Not thread-safe: one instance per thread.
 */
public final class AudioTransform {

    private final AudioTransformConfig cfg;
    private final LogMel logMel;

    public AudioTransform(AudioTransformConfig cfg) {
        this.cfg = cfg;
        this.logMel = new LogMel(cfg);
    }

    public AudioTransformConfig config() {
        return cfg;
    }

    /**
     * @throws BadRecordException empty, oversized, not-wav, truncated-audio, unsupported-audio, implausible-audio,
     *                            non-finite-audio
     */
    public AudioFeatures apply(byte[] wav, String sampleId, long epoch, Mode mode) {
        WavDecoder.Wav w = WavDecoder.parse(wav, cfg.maxBytes());
        if (w.frames() == 0) {
            throw new BadRecordException(BadRecordException.EMPTY, "WAV has no samples");
        }
        if (w.sampleRate() < MIN_RATE || w.sampleRate() > MAX_RATE) {
            throw new BadRecordException(BadRecordException.IMPLAUSIBLE_AUDIO, "WAV declares " + w.sampleRate()
                    + " Hz; accepted: " + MIN_RATE + " to " + MAX_RATE + " Hz");
        }
        if (w.seconds() > MAX_SECONDS) {
            throw new BadRecordException(BadRecordException.IMPLAUSIBLE_AUDIO, String.format(Locale.ROOT,
                    "WAV lasts %.0f s; accepted: up to %d s (an example is a %d-frame window of it)", w.seconds(),
                    MAX_SECONDS, cfg.frames()));
        }
        // only the window this example takes is decoded and resampled: memory follows the window, not the file
        long length = Math.round(w.frames() * (double) cfg.sampleRate() / w.sampleRate());   // at cfg.sampleRate
        Window win = window(length, sampleId, epoch, mode);
        long from = (long) win.startFrame() * cfg.hop();
        int count = (int) Math.min(cfg.samplesFor(win.valid()), length - from);
        float[] samples = resampledRange(w, from, count);
        for (float v : samples) {
            if (!Float.isFinite(v)) {
                throw new BadRecordException(BadRecordException.NON_FINITE_AUDIO, "WAV has a non-finite sample (" + v
                        + ") in the window this example takes");
            }
        }
        return features(samples, win);
    }

    /**
     * Samples [from, from + count) of w resampled to cfg.sampleRate: the source frames under them, plus the
     * resampler's filter reach on each side, resampled alone. When that covers the whole file it is exactly the
     * whole file resampled; otherwise equal to it up to rounding (the windowed sinc sees the same neighbours).
     */
    private float[] resampledRange(WavDecoder.Wav w, long from, int count) {
        if (w.sampleRate() == cfg.sampleRate()) {
            return w.mono(from, count);
        }
        double perTarget = (double) w.sampleRate() / cfg.sampleRate();   // source frames per target sample
        long reach = (long) Math.ceil(FILTER_REACH * Math.max(1, perTarget));
        // start the crop where source and target samples coincide (a multiple of rate / gcd), so the cut's first
        // target sample is a whole number of samples into the file's: no fractional shift
        int gcd = BigInteger.valueOf(w.sampleRate()).gcd(BigInteger.valueOf(cfg.sampleRate())).intValue();
        long sourcePeriod = w.sampleRate() / gcd;
        long targetPeriod = cfg.sampleRate() / gcd;
        long periods = Math.max(0, (long) Math.floor(from * perTarget) - reach) / sourcePeriod;
        long s0 = periods * sourcePeriod;
        long s1 = Math.min(w.frames(), (long) Math.ceil((from + count) * perTarget) + reach);
        float[] y = Resampling.resample(w.mono(s0, (int) (s1 - s0)), w.sampleRate(), cfg.sampleRate());
        int offset = (int) (from - periods * targetPeriod);
        float[] out = new float[count];
        System.arraycopy(y, offset, out, 0, Math.max(0, Math.min(count, y.length - offset)));
        return out;
    }

    /** Frames available in samples samples, the frames kept and the first one (TRAIN: seeded; EVAL: 0). */
    private record Window(int startFrame, int valid) {}

    private Window window(long samples, String sampleId, long epoch, Mode mode) {
        int available = Math.max(1, LogMel.frameCount(samples, cfg.windowSize(), cfg.hop()));
        int valid = Math.min(available, cfg.frames());
        int startFrame = 0;
        if (mode == Mode.TRAIN && available > cfg.frames()) {
            startFrame = new SplittableRandom(StableHash.seed(sampleId, epoch)).nextInt(available - cfg.frames() + 1);
        }
        return new Window(startFrame, valid);
    }

    /** The same from samples already at cfg.sampleRate (mono, [-1, 1]). */
    public AudioFeatures features(float[] x, String sampleId, long epoch, Mode mode) {
        Window win = window(x.length, sampleId, epoch, mode);
        int from = win.startFrame() * cfg.hop();
        return features(Arrays.copyOfRange(x, from, Math.min(x.length, from + cfg.samplesFor(win.valid()))), win);
    }

    /** Log-mel of the window's samples (zero-padded to its frames when shorter), normalised, padded to cfg.frames. */
    private AudioFeatures features(float[] samples, Window win) {
        float[] window = Arrays.copyOf(samples, cfg.samplesFor(win.valid()));
        float[] mel = logMel.compute(window, win.valid());
        LogMel.normalise(mel, win.valid() * cfg.mels());
        float[] out = new float[cfg.frames() * cfg.mels()];
        System.arraycopy(mel, 0, out, 0, mel.length);
        return new AudioFeatures(out, cfg.frames(), cfg.mels(), win.valid());
    }

    /** Rates accepted, in Hz: telephone audio and up; above 384 kHz no recording device writes WAV. */
    public static final int MIN_RATE = 4_000;
    public static final int MAX_RATE = 384_000;
    /** Longest accepted file: one example is a window of a few seconds; hours of audio in one record are a mistake. */
    public static final int MAX_SECONDS = 3600;
    /**
     * Source samples kept beyond the window on each side for the resampler's windowed sinc (libresample's
     * high-quality filter reaches about 18 zero crossings each way), times the source samples per target sample.
     */
    static final int FILTER_REACH = 64;
}
