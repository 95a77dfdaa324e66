package dev.d2v.preprocess.transform.audio;

import dev.d2v.preprocess.transform.StableHash;
import dev.d2v.preprocess.transform.TransformConfig;

/** Audio transform settings. Output is a frames x mels log-mel spectrogram (see LogMel). */
public record AudioTransformConfig(
        // 16 kHz: speech models (wav2vec 2.0, data2vec audio, Whisper) are trained at this rate
        int sampleRate,
        // 80 mel bands: Whisper / data2vec-style fbank features
        int mels,
        // 25 ms analysis window at 16 kHz (400 samples), the Kaldi/HTK standard
        int windowSize,
        // 10 ms hop (160 samples): 100 frames per second
        int hop,
        // FFT length: the window zero-padded to 2048 samples the spectrum every 7.8 Hz, so the lowest mel
        // bands (about 22 Hz wide) span several bins; with 512 (31 Hz bins) a 100-300 Hz sine can peak in
        // the neighbouring band. Zero padding adds no resolution, it only samples the spectrum finely.
        int fftSize,
        // frames per example: 200 = 2 s, long enough for words, short enough for CPU training
        int frames,
        // filterbank edges; fMax = Nyquist at 16 kHz
        double fMinHz,
        double fMaxHz,
        // encoded records above this are refused before parsing: 32 MB = ~17 min of 16-bit mono 16 kHz
        long maxBytes) implements TransformConfig {

    public AudioTransformConfig {
        if (sampleRate < 1000 || mels < 1 || windowSize < 2 || hop < 1 || frames < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("audio config needs sampleRate >= 1000 and positive mels, windowSize,"
                    + " hop, frames, maxBytes");
        }
        if (fftSize < windowSize || Integer.bitCount(fftSize) != 1) {
            throw new IllegalArgumentException("audio fftSize must be a power of two >= windowSize, got " + fftSize);
        }
        if (!(fMinHz >= 0 && fMinHz < fMaxHz && fMaxHz <= sampleRate / 2.0)) {
            throw new IllegalArgumentException("audio filterbank needs 0 <= fMinHz < fMaxHz <= sampleRate/2, got "
                    + fMinHz + ".." + fMaxHz);
        }
    }

    public static AudioTransformConfig defaults() {
        return new AudioTransformConfig(16000, 80, 400, 160, 2048, 200, 0, 8000, 32L << 20);
    }

    public AudioTransformConfig withFrames(int n) {
        return new AudioTransformConfig(sampleRate, mels, windowSize, hop, fftSize, n, fMinHz, fMaxHz, maxBytes);
    }

    public AudioTransformConfig withMaxBytes(long n) {
        return new AudioTransformConfig(sampleRate, mels, windowSize, hop, fftSize, frames, fMinHz, fMaxHz, n);
    }

    /** Samples covered by {@code frames} frames: window + (frames - 1) * hop. */
    public int samplesFor(int nFrames) {
        return windowSize + (nFrames - 1) * hop;
    }

    /** Stable hash of everything that changes the output (maxBytes only gates acceptance, so it is left out). */
    @Override
    public long hash() {
        return StableHash.of("audio-transform", "v1", "rate=" + sampleRate, "mels=" + mels, "win=" + windowSize,
                "hop=" + hop, "fft=" + fftSize, "frames=" + frames, "f=" + fMinHz + ".." + fMaxHz,
                "mel=htk", "window=hann", "log=ln(p+1e-10)", "norm=utterance");
    }

    /** {@code [frames, mels]}: one example's log-mel frames, frame-major. */
    @Override
    public int[] sampleShape() {
        return new int[] {frames, mels};
    }
}
