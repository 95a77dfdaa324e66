package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WavHeaderTest {

    /** RIFF, WAVE, a LIST chunk of odd size (padded), fmt, then data of {@code dataBytes}. */
    private static byte[] wav(int rate, int channels, int bits, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + 3 + 1 + 8 + 16 + 8 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.capacity() - 8)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("LIST".getBytes(StandardCharsets.US_ASCII)).putInt(3).put(new byte[] {1, 2, 3, 0});
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1)
                .putShort((short) channels).putInt(rate).putInt(rate * channels * bits / 8)
                .putShort((short) (channels * bits / 8)).putShort((short) bits);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(dataBytes);
        return b.array();
    }

    @Test
    void readsFormatAndDataPastOtherChunks() {
        WavHeader h = WavHeader.parse(wav(22050, 2, 16, 400));
        assertThat(h.formatTag()).isEqualTo(1);
        assertThat(h.sampleRate()).isEqualTo(22050);
        assertThat(h.channels()).isEqualTo(2);
        assertThat(h.bitsPerSample()).isEqualTo(16);
        assertThat(h.dataOffset()).isEqualTo(12 + 12 + 24 + 8);
        assertThat(h.dataBytes()).isEqualTo(400);
        assertThat(h.frames()).isEqualTo(100); // 400 bytes / (2 channels * 2 bytes)
    }

    @Test
    void rejectsWhatIsNotWave() {
        byte[] notWav = "RIFF....AVI LIST".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> WavHeader.parse(notWav)).hasMessageContaining("not a RIFF/WAVE");
    }
}
