package dev.d2v.ingest.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The format and data location of a RIFF/WAVE file, read from its chunks (not assumed to be 44 bytes).
 *
 * @param formatTag      1 = integer PCM, 0xFFFE = extensible
 * @param sampleRate     frames per second (Hz)
 * @param channels       samples per frame
 * @param bitsPerSample  bits in one sample
 * @param dataOffset     byte offset of the first sample in the file
 * @param dataBytes      bytes of sample data (frames * channels * bitsPerSample / 8)
 */
public record WavHeader(int formatTag, int sampleRate, int channels, int bitsPerSample, int dataOffset,
                        int dataBytes) {

    public long frames() {
        return (long) dataBytes / ((long) channels * bitsPerSample / 8);
    }

    public double seconds() {
        return frames() / (double) sampleRate;
    }

    public static WavHeader read(Path file) throws IOException {
        try {
            return parse(Files.readAllBytes(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Walks the chunk list of {@code wav}; throws IllegalArgumentException when it is not a WAVE file. */
    public static WavHeader parse(byte[] wav) {
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        if (wav.length < 12 || !tag(wav, 0).equals("RIFF") || !tag(wav, 8).equals("WAVE")) {
            throw new IllegalArgumentException("not a RIFF/WAVE file");
        }
        int pos = 12;
        int[] fmt = null; // formatTag, channels, sampleRate, bitsPerSample
        while (pos + 8 <= wav.length) {
            String id = tag(wav, pos);
            int size = b.getInt(pos + 4);
            int body = pos + 8;
            if (id.equals("fmt ")) {
                fmt = new int[] {b.getShort(body) & 0xFFFF, b.getShort(body + 2), b.getInt(body + 4),
                        b.getShort(body + 14)};
            } else if (id.equals("data")) {
                if (fmt == null) {
                    throw new IllegalArgumentException("data chunk before fmt chunk");
                }
                // streamed files carry a placeholder size; what is really there counts
                int bytes = (int) Math.min(Integer.toUnsignedLong(size), wav.length - body);
                return new WavHeader(fmt[0], fmt[2], fmt[1], fmt[3], body, bytes);
            }
            pos = body + size + (size & 1); // chunks are padded to even sizes
        }
        throw new IllegalArgumentException("no data chunk");
    }

    private static String tag(byte[] wav, int at) {
        return new String(wav, at, 4, StandardCharsets.US_ASCII);
    }
}
