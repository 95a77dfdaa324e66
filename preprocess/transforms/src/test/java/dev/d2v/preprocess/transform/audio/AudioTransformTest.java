package dev.d2v.preprocess.transform.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.d2v.preprocess.transform.BadRecordException;
import dev.d2v.preprocess.transform.Mode;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AudioTransformTest {

    private static final AudioTransformConfig CFG = AudioTransformConfig.defaults();

    /** Index of the band whose centre frequency is nearest hz. */
    static int nearestBand(MelFilterbank bank, double hz) {
        int best = 0;
        for (int m = 1; m < bank.mels(); m++) {
            if (Math.abs(bank.centreHz(m) - hz) < Math.abs(bank.centreHz(best) - hz)) {
                best = m;
            }
        }
        return best;
    }

    /** Band with the largest mean value over the first frames frames. */
    static int loudestBand(float[] values, int frames, int mels) {
        double[] mean = new double[mels];
        for (int t = 0; t < frames; t++) {
            for (int m = 0; m < mels; m++) {
                mean[m] += values[t * mels + m];
            }
        }
        int best = 0;
        for (int m = 1; m < mels; m++) {
            if (mean[m] > mean[best]) {
                best = m;
            }
        }
        return best;
    }

    @ParameterizedTest
    @ValueSource(doubles = {120, 300, 1000, 1223, 4000, 6500})
    void aSinePeaksInTheBandCentredNearestItsFrequency(double hz) {
        LogMel logMel = new LogMel(CFG);
        float[] x = Wav.sine(hz, 16000, 0.5, 0.5);
        int frames = LogMel.frameCount(x.length, 400, 160);
        float[] mel = logMel.compute(x, frames);
        int expected = nearestBand(logMel.filterbank(), hz);
        assertThat(Math.abs(logMel.filterbank().centreHz(expected) - hz)).isLessThan(60); // the bands are fine enough
        assertThat(loudestBand(mel, frames, 80)).isEqualTo(expected);
    }

    @Test
    void filterbankIsHtkMelBetweenZeroAndEightKilohertz() {
        assertThat(MelFilterbank.hzToMel(1000)).isCloseTo(999.99, within(0.1)); // HTK: 1000 Hz ~ 1000 mel
        assertThat(MelFilterbank.melToHz(MelFilterbank.hzToMel(4321))).isCloseTo(4321, within(1e-6));
        MelFilterbank bank = new MelFilterbank(80, 2048, 16000, 0, 8000);
        double step = MelFilterbank.hzToMel(8000) / 81;
        assertThat(MelFilterbank.hzToMel(bank.centreHz(0))).isCloseTo(step, within(1e-6));
        assertThat(MelFilterbank.hzToMel(bank.centreHz(79))).isCloseTo(80 * step, within(1e-6));
        // every band sees some energy of white noise (no empty filter at the narrow low end)
        float[] flat = new float[1025];
        Arrays.fill(flat, 1f);
        float[] out = new float[80];
        bank.apply(flat, out);
        for (float v : out) {
            assertThat(v).isGreaterThan(1f); // each triangle covers at least two 7.8 Hz bins
        }
    }

    @Test
    void oneSecondGivesNinetyEightFramesAndIsNormalised() {
        byte[] wav = Wav.pcm(Wav.sine(440, 16000, 1.0, 0.3), 16000, 16);
        AudioFeatures f = new AudioTransform(CFG).apply(wav, "a", 0, Mode.EVAL);
        assertThat(f.frames()).isEqualTo(200);
        assertThat(f.mels()).isEqualTo(80);
        assertThat(f.validFrames()).isEqualTo(1 + (16000 - 400) / 160).isEqualTo(98);
        int valid = 98 * 80;
        double mean = 0;
        for (int i = 0; i < valid; i++) {
            mean += f.values()[i];
        }
        mean /= valid;
        double var = 0;
        for (int i = 0; i < valid; i++) {
            var += (f.values()[i] - mean) * (f.values()[i] - mean);
        }
        assertThat(mean).isCloseTo(0, within(1e-4));
        assertThat(Math.sqrt(var / valid)).isCloseTo(1, within(1e-3));
        for (int i = valid; i < f.values().length; i++) {
            assertThat(f.values()[i]).isZero();
        }
    }

    @Test
    void longAudioIsCroppedShortAudioPadded() {
        AudioTransform t = new AudioTransform(CFG.withFrames(50));
        SplittableRandom rng = new SplittableRandom(3);
        float[] noise = new float[16000 * 3];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) (rng.nextDouble() - 0.5) * (1 + i / 8000); // louder over time: offsets differ
        }
        AudioFeatures eval = t.features(noise, "n", 0, Mode.EVAL);
        assertThat(eval.validFrames()).isEqualTo(50);
        // EVAL takes the first 50 frames: the same as transforming just those samples
        float[] head = Arrays.copyOf(noise, CFG.samplesFor(50));
        assertThat(t.features(head, "other", 9, Mode.EVAL).values()).isEqualTo(eval.values());

        AudioFeatures train = t.features(noise, "n", 4, Mode.TRAIN);
        assertThat(t.features(noise, "n", 4, Mode.TRAIN).values()).isEqualTo(train.values());
        assertThat(t.features(noise, "n", 5, Mode.TRAIN).values()).isNotEqualTo(train.values());

        AudioFeatures tiny = t.features(Arrays.copyOf(noise, 100), "n", 0, Mode.EVAL); // < one window
        assertThat(tiny.validFrames()).isEqualTo(1);
        AudioFeatures shortOne = t.features(Arrays.copyOf(noise, CFG.samplesFor(20)), "n", 0, Mode.TRAIN);
        assertThat(shortOne.validFrames()).isEqualTo(20);
        assertThat(Arrays.copyOfRange(shortOne.values(), 20 * 80, 50 * 80)).containsOnly(0f);
    }

    @ParameterizedTest
    @ValueSource(ints = {8000, 22050, 44100})
    void resamplingTo16kHzKeepsAToneFrequencyAndLevel(int rate) {
        float[] x = Wav.sine(1000, rate, 1.2, 0.5);
        float[] y = Resampling.resample(x, rate, 16000);
        assertThat(y.length).isCloseTo((int) Math.round(x.length * 16000.0 / rate), within(1));
        assertThat(Wav.toneHz(Arrays.copyOfRange(y, 1000, 17000), 16000)).isCloseTo(1000, within(0.5));
        assertThat(Wav.rms(y, 1000, 17000)).isCloseTo(0.5 / Math.sqrt(2), within(0.02));
    }

    @Test
    void downsamplingRemovesToneAboveTheNewNyquist() {
        float[] x = Wav.sine(12000, 44100, 1.0, 0.5); // would alias to 4 kHz without a low-pass
        float[] y = Resampling.resample(x, 44100, 16000);
        assertThat(Wav.rms(y, 1000, 15000)).isLessThan(0.02);
    }

    @Test
    void eightKilohertzWavStillPutsOneKilohertzInItsBand() {
        byte[] wav = Wav.pcm(Wav.sine(1000, 8000, 1.0, 0.5), 8000, 16);
        AudioFeatures f = new AudioTransform(CFG).apply(wav, "a", 0, Mode.EVAL);
        assertThat(f.validFrames()).isEqualTo(98);
        int expected = nearestBand(new MelFilterbank(80, 2048, 16000, 0, 8000), 1000);
        assertThat(loudestBand(f.values(), f.validFrames(), 80)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 16, 24, 32})
    void pcmDepthsAndStereoDecodeToTheSameMonoSignal(int bits) {
        float[] x = Wav.sine(300, 16000, 0.05, 0.6);
        WavDecoder.Pcm mono = WavDecoder.decode(Wav.pcm(x, 16000, bits), 1 << 20);
        WavDecoder.Pcm stereo = WavDecoder.decode(Wav.pcm(x, 16000, bits, 0.5, 1.5), 1 << 20); // mean gain 1
        double tolerance = bits == 8 ? 0.02 : 1e-4;
        assertThat(mono.sampleRate()).isEqualTo(16000);
        assertThat(mono.samples()).hasSize(x.length);
        for (int i = 0; i < x.length; i++) {
            assertThat((double) mono.samples()[i]).isCloseTo(x[i], within(tolerance));
            assertThat((double) stereo.samples()[i]).isCloseTo(x[i], within(tolerance * 2));
        }
    }

    @Test
    void truncatedNonWavEmptyAndOversizedAreBadRecords() {
        AudioTransform t = new AudioTransform(CFG.withMaxBytes(100_000));
        byte[] wav = Wav.pcm(Wav.sine(440, 16000, 0.5, 0.3), 16000, 16);
        assertReason(() -> t.apply(Arrays.copyOf(wav, wav.length - 1000), "a", 0, Mode.EVAL),
                BadRecordException.TRUNCATED_AUDIO);
        assertReason(() -> t.apply(Arrays.copyOf(wav, 30), "a", 0, Mode.EVAL), BadRecordException.TRUNCATED_AUDIO);
        assertReason(() -> t.apply("hello, this is not audio".getBytes(), "a", 0, Mode.EVAL), BadRecordException.NOT_WAV);
        assertReason(() -> t.apply(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0, 0, 0, 0, 0, 0}, "a", 0, Mode.EVAL),
                BadRecordException.NOT_WAV);
        assertReason(() -> t.apply(new byte[0], "a", 0, Mode.EVAL), BadRecordException.EMPTY);
        assertReason(() -> t.apply(Wav.pcm(new float[0], 16000, 16), "a", 0, Mode.EVAL), BadRecordException.EMPTY);
        assertReason(() -> t.apply(new byte[100_001], "a", 0, Mode.EVAL), BadRecordException.OVERSIZED);
    }

    @Test
    void implausibleRatesAndDurationsAreBadRecords() {
        AudioTransform t = new AudioTransform(CFG);
        // 1 Hz: resampled whole to 16 kHz, 100 samples became 1.6 million and a longer file overflowed an int
        assertReason(() -> t.apply(Wav.pcm(new float[100], 1, 16), "a", 0, Mode.EVAL), BadRecordException.IMPLAUSIBLE_AUDIO);
        assertReason(() -> t.apply(Wav.pcm(new float[100], 1_000_000, 16), "a", 0, Mode.EVAL),
                BadRecordException.IMPLAUSIBLE_AUDIO);
        assertReason(() -> t.apply(Wav.pcm(new float[(AudioTransform.MAX_SECONDS + 1) * 4000], 4000, 8), "a", 0, Mode.EVAL),
                BadRecordException.IMPLAUSIBLE_AUDIO);
        assertThat(t.apply(Wav.pcm(Wav.sine(440, AudioTransform.MIN_RATE, 0.5, 0.3), AudioTransform.MIN_RATE, 16), "a", 0,
                Mode.EVAL).validFrames()).isPositive();
    }

    @ParameterizedTest
    @ValueSource(ints = {16000, 22050, 44100})
    void aLongFileIsCutToItsWindowBeforeResamplingWithTheSameFeatures(int rate) {
        AudioTransform t = new AudioTransform(CFG);
        SplittableRandom rng = new SplittableRandom(rate);
        float[] x = new float[rate * 20];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((rng.nextDouble() - 0.5) * (0.2 + Math.sin(i * 7.0 / rate)));   // loudness varies: offsets show
        }
        byte[] wav = Wav.pcm(x, rate, 16);
        float[] whole = Resampling.resample(WavDecoder.decode(wav, CFG.maxBytes()).samples(), rate, 16000);
        for (Mode mode : Mode.values()) {
            for (long epoch = 0; epoch < 3; epoch++) {
                float[] cut = t.apply(wav, "long", epoch, mode).values();
                float[] reference = t.features(whole, "long", epoch, mode).values();
                for (int i = 0; i < cut.length; i++) {
                    assertThat((double) cut[i]).as("%s epoch %d value %d", mode, epoch, i)
                            .isCloseTo(reference[i], within(rate == 16000 ? 0 : 2e-3));
                }
            }
        }
    }

    static void assertReason(ThrowingCallable call, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(BadRecordException.class,
                e -> assertThat(e.reason()).isEqualTo(reason));
    }

    @Test
    void configHashIsStableAndSensitive() {
        assertThat(CFG.hash()).isEqualTo(AudioTransformConfig.defaults().hash());
        assertThat(CFG.withFrames(100).hash()).isNotEqualTo(CFG.hash());
        assertThat(CFG.withMaxBytes(5).hash()).isEqualTo(CFG.hash());
    }
}
