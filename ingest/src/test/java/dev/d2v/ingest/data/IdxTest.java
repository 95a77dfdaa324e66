package dev.d2v.ingest.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IdxTest {

    /** A 2 x 2 x 3 unsigned-byte IDX file written out by hand. */
    private static final byte[] TINY = {
        0, 0, 0x08, 3,          // magic: type unsigned byte, rank 3
        0, 0, 0, 2,             // 2 items
        0, 0, 0, 2,             // 2 rows
        0, 0, 0, 3,             // 3 columns
        1, 2, 3, 4, 5, 6,       // item 0
        (byte) 200, (byte) 255, 0, 9, 8, 7 // item 1
    };

    @Test
    void parsesDimensionsAndItems() throws IOException {
        Idx idx = Idx.parse(TINY);
        assertThat(idx.dims()).containsExactly(2, 2, 3);
        assertThat(idx.count()).isEqualTo(2);
        assertThat(idx.itemSize()).isEqualTo(6);
        assertThat(idx.item(0)).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(idx.item(1)).containsExactly((byte) 200, (byte) 255, 0, 9, 8, 7);
    }

    @Test
    void labelsAreUnsigned() throws IOException {
        Idx labels = Idx.parse(new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, (byte) 250});
        assertThat(labels.dims()).containsExactly(3);
        assertThat(labels.label(0)).isEqualTo(7);
        assertThat(labels.label(2)).isEqualTo(250);
    }

    @Test
    void rejectsBadMagic() {
        byte[] bad = TINY.clone();
        bad[0] = 0x1f; // e.g. still gzipped
        assertThatThrownBy(() -> Idx.parse(bad)).isInstanceOf(IOException.class).hasMessageContaining("not an IDX file");
    }

    @Test
    void rejectsOtherTypesAndWrongLengths() {
        byte[] floats = TINY.clone();
        floats[2] = 0x0D;
        assertThatThrownBy(() -> Idx.parse(floats)).hasMessageContaining("0x0d not supported");
        byte[] shortData = Arrays.copyOf(TINY, TINY.length - 1);
        assertThatThrownBy(() -> Idx.parse(shortData)).hasMessageContaining("holds 11 bytes").hasMessageContaining("need 12");
    }

    @Test
    void pngRoundTripKeepsPixels() throws IOException {
        byte[] pixels = new byte[28 * 28];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37 % 256);
        }
        byte[] png = GrayPng.encode(pixels, 28, 28);
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        assertThat(GrayPng.decode(png)).isEqualTo(pixels);
        assertThat(GrayPng.encode(pixels, 28, 28)).as("same pixels, same bytes").isEqualTo(png);
    }
}
