package dev.d2v.preprocess.transform.audio;

/**
 * HTK-style mel filterbank: mel(f) = 2595 * log10(1 + f / 700); mels + 2 points evenly spaced in mel
 * between fMin and fMax give the edges; filter m rises linearly (in Hz) from point m to its centre,
 * point m + 1, and falls to point m + 2, peak weight 1 (no area normalisation, as HTK/Kaldi).
 */
public final class MelFilterbank {

    private final float[][] weights; // [mels][fftSize / 2 + 1]
    private final int[] firstBin; // [mels] first bin with a non-zero weight
    private final int[] lastBin; // [mels] last bin with a non-zero weight (inclusive)
    private final double[] centresHz; // [mels]

    public MelFilterbank(int mels, int fftSize, int sampleRate, double fMinHz, double fMaxHz) {
        int bins = fftSize / 2 + 1;
        double melLo = hzToMel(fMinHz);
        double melHi = hzToMel(fMaxHz);
        double[] pointsHz = new double[mels + 2];
        for (int i = 0; i < mels + 2; i++) {
            pointsHz[i] = melToHz(melLo + (melHi - melLo) * i / (mels + 1));
        }
        weights = new float[mels][bins];
        centresHz = new double[mels];
        firstBin = new int[mels];
        lastBin = new int[mels];
        for (int m = 0; m < mels; m++) {
            double lo = pointsHz[m];
            double mid = pointsHz[m + 1];
            double hi = pointsHz[m + 2];
            centresHz[m] = mid;
            for (int k = 0; k < bins; k++) {
                double f = (double) k * sampleRate / fftSize;
                double w = f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
                weights[m][k] = (float) Math.max(0, w);
            }
            firstBin[m] = bins;
            lastBin[m] = -1;
            for (int k = 0; k < bins; k++) {
                if (weights[m][k] > 0) {
                    firstBin[m] = Math.min(firstBin[m], k);
                    lastBin[m] = k;
                }
            }
        }
    }

    public static double hzToMel(double hz) {
        return 2595.0 * Math.log10(1.0 + hz / 700.0);
    }

    public static double melToHz(double mel) {
        return 700.0 * (Math.pow(10.0, mel / 2595.0) - 1.0);
    }

    public int mels() {
        return weights.length;
    }

    /** Centre frequency of band m in Hz. */
    public double centreHz(int m) {
        return centresHz[m];
    }

    /**
     * @param power float[fftSize / 2 + 1] power spectrum of one frame
     * @param out float[mels] receives the band energies
     */
    public void apply(float[] power, float[] out) {
        for (int m = 0; m < weights.length; m++) {
            float[] w = weights[m];
            double acc = 0;
            for (int k = firstBin[m]; k <= lastBin[m]; k++) { // triangles are sparse: skip the zeros
                acc += w[k] * power[k];
            }
            out[m] = (float) acc;
        }
    }
}
