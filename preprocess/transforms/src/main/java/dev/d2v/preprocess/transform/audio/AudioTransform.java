package dev.d2v.preprocess.transform.audio;

import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import dev.d2v.preprocess.transform.StableHash;
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

    /** @throws BadRecordException empty, oversized, not-wav, truncated-audio, unsupported-audio */
    public AudioFeatures apply(byte[] wav, String sampleId, long epoch, Mode mode) {
        WavDecoder.Pcm pcm = WavDecoder.decode(wav, cfg.maxBytes());
        if (pcm.samples().length == 0) {
            throw new BadRecordException(BadRecordException.EMPTY, "WAV has no samples");
        }
        float[] x = Resampling.resample(pcm.samples(), pcm.sampleRate(), cfg.sampleRate());
        return features(x, sampleId, epoch, mode);
    }

    /** The same from samples already at cfg.sampleRate (mono, [-1, 1]). */
    public AudioFeatures features(float[] x, String sampleId, long epoch, Mode mode) {
        int available = Math.max(1, LogMel.frameCount(x.length, cfg.windowSize(), cfg.hop()));
        int valid = Math.min(available, cfg.frames());
        int startFrame = 0;
        if (mode == Mode.TRAIN && available > cfg.frames()) {
            startFrame = new SplittableRandom(StableHash.seed(sampleId, epoch)).nextInt(available - cfg.frames() + 1);
        }
        float[] window = new float[cfg.samplesFor(valid)]; // zero-padded when x is shorter than one window
        int from = startFrame * cfg.hop();
        System.arraycopy(x, from, window, 0, Math.min(window.length, x.length - from));
        float[] mel = logMel.compute(window, valid);
        LogMel.normalise(mel, valid * cfg.mels());
        float[] out = new float[cfg.frames() * cfg.mels()];
        System.arraycopy(mel, 0, out, 0, mel.length);
        return new AudioFeatures(out, cfg.frames(), cfg.mels(), valid);
    }
}
