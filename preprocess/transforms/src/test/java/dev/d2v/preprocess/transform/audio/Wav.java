package dev.d2v.preprocess.transform.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test helper: PCM WAV files and tones. */
final class Wav {

    private Wav() {}

    static float[] sine(double hz, int rate, double seconds, double amplitude) {
        float[] x = new float[(int) Math.round(rate * seconds)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (amplitude * Math.sin(2 * Math.PI * hz * i / rate));
        }
        return x;
    }

    /** Integer PCM (8 unsigned, 16, 24, 32 bit); every channel carries channelGain[c] * x. */
    static byte[] pcm(float[] x, int rate, int bits, double... channelGain) {
        int channels = channelGain.length == 0 ? 1 : channelGain.length;
        double[] gains = channelGain.length == 0 ? new double[] {1} : channelGain;
        int bytesPer = bits / 8;
        int dataLen = x.length * channels * bytesPer;
        ByteBuffer b = ByteBuffer.allocate(44 + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(36 + dataLen).put("WAVE".getBytes());
        b.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) channels).putInt(rate)
                .putInt(rate * channels * bytesPer).putShort((short) (channels * bytesPer)).putShort((short) bits);
        b.put("data".getBytes()).putInt(dataLen);
        for (float v : x) {
            for (int c = 0; c < channels; c++) {
                double s = Math.max(-1, Math.min(1, v * gains[c]));
                switch (bits) {
                    case 8 -> b.put((byte) (Math.round(s * 127) + 128));
                    case 16 -> b.putShort((short) Math.round(s * 32767));
                    case 24 -> {
                        int q = (int) Math.round(s * 8388607);
                        b.put((byte) q).put((byte) (q >> 8)).put((byte) (q >> 16));
                    }
                    default -> b.putInt((int) Math.round(s * 2147483647.0));
                }
            }
        }
        return b.array();
    }

    /** Frequency of a pure tone from its rising zero crossings (linearly interpolated), in Hz. */
    static double toneHz(float[] x, int rate) {
        double first = -1;
        double last = -1;
        int cycles = -1;
        for (int i = 1; i < x.length; i++) {
            if (x[i - 1] < 0 && x[i] >= 0) {
                double t = i - 1 + x[i - 1] / (x[i - 1] - x[i]);
                if (first < 0) {
                    first = t;
                }
                last = t;
                cycles++;
            }
        }
        return cycles * rate / (last - first);
    }

    static double rms(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += x[i] * x[i];
        }
        return Math.sqrt(s / (to - from));
    }
}
