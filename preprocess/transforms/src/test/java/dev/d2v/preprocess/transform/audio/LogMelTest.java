package dev.d2v.preprocess.transform.audio;

import static org.assertj.core.api.Assertions.assertThat;

import be.tarsos.dsp.util.fft.FFT;
import be.tarsos.dsp.util.fft.HannWindow;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The log-mel's fused loop against the plain one it replaced: TarsosDSP's window applied to each frame. */
class LogMelTest {

    private static final AudioTransformConfig CFG = AudioTransformConfig.defaults();

    /** Frame by frame: copy, TarsosDSP's HannWindow.apply, zero pad, FFT, power, filterbank, log. */
    private static float[] plain(float[] x, int nFrames) {
        int mels = CFG.mels();
        MelFilterbank bank = new MelFilterbank(mels, CFG.fftSize(), CFG.sampleRate(), CFG.fMinHz(), CFG.fMaxHz());
        FFT fft = new FFT(CFG.fftSize());
        HannWindow window = new HannWindow();
        float[] out = new float[nFrames * mels];
        float[] frame = new float[CFG.windowSize()];
        float[] spectrum = new float[CFG.fftSize()];
        float[] power = new float[CFG.fftSize() / 2 + 1];
        float[] bands = new float[mels];
        for (int t = 0; t < nFrames; t++) {
            System.arraycopy(x, t * CFG.hop(), frame, 0, frame.length);
            window.apply(frame);
            Arrays.fill(spectrum, 0f);
            System.arraycopy(frame, 0, spectrum, 0, frame.length);
            fft.forwardTransform(spectrum);
            LogMel.powerSpectrum(spectrum, power);
            bank.apply(power, bands);
            for (int m = 0; m < mels; m++) {
                out[t * mels + m] = (float) Math.log(bands[m] + LogMel.EPS);
            }
        }
        return out;
    }

    @Test
    void theFusedLoopGivesThePlainLoopsValuesBitForBit() {
        SplittableRandom rng = new SplittableRandom(7);
        LogMel logMel = new LogMel(CFG);
        for (int seconds : new int[] {1, 3}) {
            float[] x = new float[CFG.sampleRate() * seconds];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (0.4 * Math.sin(2 * Math.PI * 440 * i / CFG.sampleRate()) + 0.1 * (rng.nextDouble() * 2 - 1));
            }
            int frames = LogMel.frameCount(x.length, CFG.windowSize(), CFG.hop());
            // twice through one instance: its reused buffers carry nothing from one call to the next
            assertThat(logMel.compute(x, frames)).containsExactly(plain(x, frames));
            assertThat(logMel.compute(x, frames)).containsExactly(plain(x, frames));
        }
    }

    @Test
    void theCoefficientsAreTheHannWindow() {
        float[] w = LogMel.coefficients(new HannWindow(), CFG.windowSize());
        assertThat(w[0]).isZero();
        assertThat(w[CFG.windowSize() - 1]).isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(w[(CFG.windowSize() - 1) / 2]).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
    }
}
