package dev.d2v.preprocess.transform.audio;

import dev.d2v.preprocess.transform.BadRecordException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * RIFF/WAVE bytes to mono float samples in [-1, 1]. Reads the chunks itself so that a truncated file is
 * detected (javax.sound.sampled silently returns what is there). Supports PCM 8 (unsigned), 16, 24, 32 bit,
 * IEEE float 32/64 and WAVE_FORMAT_EXTENSIBLE with those sub-formats; any number of channels, averaged to mono.
 */
public final class WavDecoder {

    private static final int PCM = 1;
    private static final int IEEE_FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;

    private WavDecoder() {}

    /** Decoded mono audio. */
    public record Pcm(float[] samples, int sampleRate) {
        public double seconds() {
            return (double) samples.length / sampleRate;
        }
    }

    /** The fmt chunk: format code (1 PCM, 3 IEEE float), channels, rate, bits per sample, bytes per frame. */
    public record Format(int code, int channels, int sampleRate, int bits, int blockAlign) {}

    /**
     * A parsed WAV whose samples are not decoded yet: {@link #mono} decodes the frames a caller needs, so that memory
     * follows the window cut from the file, not the file's length.
     *
     * @param frames sample frames in the data chunk (one sample per channel each)
     */
    public record Wav(byte[] bytes, Format format, int dataOffset, long frames) {

        public int sampleRate() {
            return format.sampleRate();
        }

        public int channels() {
            return format.channels();
        }

        public double seconds() {
            return (double) frames / format.sampleRate();
        }

        /** Frames [from, from + count) as mono samples in [-1, 1], the channels averaged. */
        public float[] mono(long from, int count) {
            if (from < 0 || count < 0 || from + count > frames) {
                throw new IndexOutOfBoundsException("frames [" + from + ", " + (from + count) + ") of " + frames);
            }
            return toMono(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN),
                    dataOffset + from * format.blockAlign(), count, format);
        }
    }

    /** The whole file as mono samples (at most Integer.MAX_VALUE frames; {@link #parse} for a window of a long one). */
    public static Pcm decode(byte[] bytes, long maxBytes) {
        Wav w = parse(bytes, maxBytes);
        return new Pcm(w.mono(0, (int) w.frames()), w.sampleRate());
    }

    /**
     * Reads and checks the header and finds the data chunk; decodes no samples.
     *
     * @throws BadRecordException empty, oversized, not-wav, truncated-audio, unsupported-audio
     */
    public static Wav parse(byte[] bytes, long maxBytes) {
        BadRecordException.checkSize(bytes, maxBytes, "audio");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || b.getInt(0) != 0x46464952 /* RIFF */ || b.getInt(8) != 0x45564157 /* WAVE */) {
            throw new BadRecordException(BadRecordException.NOT_WAV, "no RIFF/WAVE header in " + bytes.length + " bytes");
        }
        Format fmt = null;
        long pos = 12;
        while (pos + 8 <= bytes.length) {
            int at = (int) pos;
            int id = b.getInt(at);
            long size = Integer.toUnsignedLong(b.getInt(at + 4));
            long body = pos + 8;
            if (id == 0x20746d66 /* "fmt " */) {
                if (size < 16 || body + 16 > bytes.length) {
                    throw truncated("fmt chunk is cut short");
                }
                fmt = readFormat(b, (int) body, size);
            } else if (id == 0x61746164 /* "data" */) {
                if (fmt == null) {
                    throw new BadRecordException(BadRecordException.NOT_WAV, "data chunk before fmt chunk");
                }
                long available = bytes.length - body;
                // streaming writers leave 0 or 0xFFFFFFFF when the length was unknown: read to the end
                long declared = (size == 0 || size == 0xFFFFFFFFL) ? available - available % fmt.blockAlign() : size;
                if (declared > available) {
                    throw truncated("data chunk declares " + declared + " bytes, only " + available + " present");
                }
                return new Wav(bytes, fmt, (int) body, declared / fmt.blockAlign());
            }
            pos = body + size + (size & 1); // chunks are word aligned; in long: a 4 GB chunk must not wrap around
        }
        throw truncated(fmt == null ? "no fmt chunk" : "no data chunk");
    }

    private static BadRecordException truncated(String why) {
        return new BadRecordException(BadRecordException.TRUNCATED_AUDIO, "WAV " + why);
    }

    private static Format readFormat(ByteBuffer b, int at, long size) {
        int code = b.getShort(at) & 0xffff;
        int channels = b.getShort(at + 2) & 0xffff;
        int rate = b.getInt(at + 4);
        int blockAlign = b.getShort(at + 12) & 0xffff;
        int bits = b.getShort(at + 14) & 0xffff;
        if (code == EXTENSIBLE && size >= 40 && at + 26 <= b.limit()) {
            code = b.getShort(at + 24) & 0xffff; // first two bytes of the sub-format GUID
        }
        boolean pcmOk = code == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
        boolean floatOk = code == IEEE_FLOAT && (bits == 32 || bits == 64);
        if (!pcmOk && !floatOk) {
            throw new BadRecordException(BadRecordException.UNSUPPORTED_AUDIO, "WAV format code " + code + " with "
                    + bits + " bits; supported: PCM 8/16/24/32 bit, IEEE float 32/64 bit");
        }
        if (channels < 1 || rate < 1 || blockAlign != channels * (bits / 8)) {
            throw new BadRecordException(BadRecordException.UNSUPPORTED_AUDIO, "WAV fmt is inconsistent: channels="
                    + channels + " rate=" + rate + " blockAlign=" + blockAlign + " bits=" + bits);
        }
        return new Format(code, channels, rate, bits, blockAlign);
    }

    /** Interleaved frames at byte offset {@code at} to mono: the mean of the channels. */
    private static float[] toMono(ByteBuffer b, long at, int frames, Format f) {
        float[] out = new float[frames];
        if (f.code() == PCM && f.bits() == 16 && f.channels() == 1) {   // the common case, without the per-sample switch
            for (int i = 0; i < frames; i++) {
                out[i] = (float) (b.getShort((int) (at + 2L * i)) / 32768.0);
            }
            return out;
        }
        int bytesPer = f.bits() / 8;
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            for (int c = 0; c < f.channels(); c++) {
                sum += sample(b, (int) (at + (long) i * f.blockAlign() + (long) c * bytesPer), f);
            }
            out[i] = (float) (sum / f.channels());
        }
        return out;
    }

    private static double sample(ByteBuffer b, int p, Format f) {
        if (f.code() == IEEE_FLOAT) {
            return f.bits() == 32 ? b.getFloat(p) : b.getDouble(p);
        }
        return switch (f.bits()) {
            case 8 -> ((b.get(p) & 0xff) - 128) / 128.0; // 8-bit WAV is unsigned
            case 16 -> b.getShort(p) / 32768.0;
            case 24 -> ((b.get(p) & 0xff) | ((b.get(p + 1) & 0xff) << 8) | (b.get(p + 2) << 16)) / 8388608.0;
            default -> b.getInt(p) / 2147483648.0;
        };
    }
}
