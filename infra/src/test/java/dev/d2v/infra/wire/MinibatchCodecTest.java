package dev.d2v.infra.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.d2v.infra.Modality;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MinibatchCodecTest {
    private static final MinibatchCodec CODEC = MinibatchCodec.inline();

    // ------------------------------------------------------------------ round trips

    @Property(tries = 600)
    void roundTripsAnyMinibatch(@ForAll("minibatches") Minibatch mb) {
        byte[] wire = CODEC.encode(mb);
        assertThat(CODEC.decode(wire)).isEqualTo(mb);
        assertThat(MinibatchCodec.versionOf(wire)).isEqualTo(MinibatchCodec.VERSION);
    }

    /** Every dtype x modality pair, so no combination depends on the random draw. */
    @Test
    void roundTripsEveryDtypeAndModality() {
        Set<String> seen = new HashSet<>();
        for (Modality m : Modality.values()) {
            for (DType d : DType.values()) {
                Minibatch mb = MinibatchArbitraries.minibatches(Arbitraries.just(m), Arbitraries.just(d))
                        .sampleStream().limit(20).filter(x -> x.modality() == m && x.dtype() == d)
                        .peek(x -> assertThat(CODEC.decode(CODEC.encode(x))).isEqualTo(x))
                        .reduce((a, b) -> b).orElseThrow();
                seen.add(mb.modality() + "/" + mb.dtype());
            }
        }
        assertThat(seen).hasSize(Modality.values().length * DType.values().length);
    }

    @Provide
    Arbitrary<Minibatch> minibatches() {
        return MinibatchArbitraries.minibatches();
    }

    @Test
    void headerStartsWithMagicVersionAndLength() {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(DType.FP16));
        assertThat(Arrays.copyOf(wire, 4)).isEqualTo("D2VB".getBytes());
        assertThat(wire[4]).isEqualTo((byte) 1);
        assertThat(wire[5]).isEqualTo((byte) 0);
        assertThat((wire[6] & 0xff) | (wire[7] & 0xff) << 8).isEqualTo(wire.length);
    }

    // ------------------------------------------------------------------ corruption

    /** Flip each bit of a record in turn: every flip is caught, with the message of the part it hit. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void everySingleBitFlipFails(DType dtype) {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(dtype));
        for (int bit = 0; bit < wire.length * 8; bit++) {
            byte[] bad = wire.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            WireFormatException e = catchThrowableOfType(WireFormatException.class, () -> CODEC.decode(bad));
            assertThat(e).as("flip of bit %d", bit).isNotNull();
            int at = bit / 8;
            String expected = at < 4 ? "not a minibatch record"
                    : at < 6 ? "unknown minibatch codec version"
                    : "minibatch CRC32C mismatch";
            assertThat(e.getMessage()).as("flip of bit %d", bit).startsWith(expected);
        }
    }

    @Test
    void everyTruncationFails() {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(DType.INT32));
        for (int len = 0; len < wire.length; len++) {
            byte[] cut = Arrays.copyOf(wire, len);
            assertThatThrownBy(() -> CODEC.decode(cut)).as("cut to %d bytes", len)
                    .isInstanceOf(WireFormatException.class)
                    .hasMessageStartingWith("truncated minibatch: ");
        }
        byte[] cut = Arrays.copyOf(wire, wire.length - 1);
        assertThatThrownBy(() -> CODEC.decode(cut))
                .hasMessageContaining("declares " + wire.length + " bytes, got " + (wire.length - 1));
    }

    @Test
    void trailingBytesFail() {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(DType.UINT8));
        byte[] longer = Arrays.copyOf(wire, wire.length + 3);
        assertThatThrownBy(() -> CODEC.decode(longer)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("declares " + wire.length + " bytes but the record has " + longer.length);
    }

    @Test
    void unknownVersionFailsNamingIt() {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(DType.FP32));
        wire[4] = 7;
        assertThatThrownBy(() -> CODEC.decode(wire)).isInstanceOf(WireFormatException.class)
                .hasMessage("unknown minibatch codec version 7 (this build reads 1)");
        wire[4] = 0;
        wire[5] = 1;
        assertThatThrownBy(() -> CODEC.decode(wire)).hasMessage("unknown minibatch codec version 256 (this build reads 1)");
    }

    @Test
    void foreignBytesFailOnTheMagic() {
        assertThatThrownBy(() -> CODEC.decode("{\"json\": true}".getBytes())).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("not a minibatch record: it starts with 0x7b226a73");
    }

    /** A record whose CRC matches but whose content is inconsistent (an encoder bug) still fails clearly. */
    @Test
    void consistentCrcOverInconsistentContentFails() {
        byte[] wire = CODEC.encode(MinibatchArbitraries.sample(DType.FP16));
        wire[10] = 9; // modality wire id 9 does not exist
        recomputeCrc(wire);
        assertThatThrownBy(() -> CODEC.decode(wire)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("corrupt minibatch").hasMessageContaining("unknown modality wire id 9");
        byte[] huge = CODEC.encode(MinibatchArbitraries.sample(DType.FP16));
        huge[14] = (byte) 0xff; // B = 0x7fff..ff: must be refused before any allocation
        huge[15] = (byte) 0xff;
        huge[16] = (byte) 0xff;
        huge[17] = 0x7f;
        recomputeCrc(huge);
        assertThatThrownBy(() -> CODEC.decode(huge)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("corrupt minibatch");
    }

    private static void recomputeCrc(byte[] wire) {
        int crc = (int) MinibatchCodec.crc32c(wire, 0, wire.length - 4);
        for (int i = 0; i < 4; i++) {
            wire[wire.length - 4 + i] = (byte) (crc >>> (8 * i));
        }
    }

    // ------------------------------------------------------------------ claim check

    @Test
    void largePayloadsGoToTheBlobStore(@TempDir Path dir) throws IOException {
        FileBlobStore store = new FileBlobStore(dir);
        MinibatchCodec codec = MinibatchCodec.withBlobStore(store, 16);
        Minibatch big = MinibatchArbitraries.build(Modality.AUDIO, DType.FP32, new int[] {2, 64, 8}, List.of("a", "b"),
                5, 6, false, true, 7);                                  // 4096 payload bytes > 16
        byte[] wire = codec.encode(big);
        assertThat(wire.length).as("only the reference travels").isLessThan(200);
        assertThat(codec.decode(wire)).isEqualTo(big);
        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.filter(Files::isRegularFile).toList()).hasSize(1);
        }
        // a second codec on the same folder (another process) reads it too
        assertThat(MinibatchCodec.withBlobStore(new FileBlobStore(dir), 1 << 20).decode(wire)).isEqualTo(big);

        Minibatch small = MinibatchArbitraries.build(Modality.TEXT, DType.UINT8, new int[] {2, 4}, List.of("a", "b"),
                1, 2, false, false, 3);                                 // 8 bytes: stays inline
        assertThat(codec.decode(codec.encode(small))).isEqualTo(small);
        assertThat(MinibatchCodec.inline().decode(codec.encode(small))).isEqualTo(small);
    }

    @Test
    void referenceWithoutStoreOrBlobFailsClearly(@TempDir Path dir) throws IOException {
        MinibatchCodec codec = MinibatchCodec.withBlobStore(new FileBlobStore(dir), 0);
        byte[] wire = codec.encode(MinibatchArbitraries.sample(DType.UINT8));
        assertThatThrownBy(() -> MinibatchCodec.inline().decode(wire)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("stored by reference (sha256-").hasMessageContaining("no blob store");

        Path blob;
        try (Stream<Path> files = Files.walk(dir)) {
            blob = files.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        Files.write(blob, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> codec.decode(wire)).isInstanceOf(WireFormatException.class).hasMessageContaining("is corrupt");
        Files.delete(blob);
        assertThatThrownBy(() -> codec.decode(wire)).isInstanceOf(WireFormatException.class).hasMessageContaining("not found");
    }

    @Test
    void fileBlobStoreIsContentAddressedAndRejectsBadRefs(@TempDir Path dir) {
        FileBlobStore store = new FileBlobStore(dir);
        String a = store.put(new byte[] {1, 2, 3});
        assertThat(store.put(new byte[] {1, 2, 3})).isEqualTo(a);
        assertThat(store.put(new byte[] {1, 2, 4})).isNotEqualTo(a);
        assertThat(store.get(a)).containsExactly(1, 2, 3);
        assertThat(a).matches("sha256-[0-9a-f]{64}");
        assertThatThrownBy(() -> store.get("sha256-../../etc/passwd")).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("malformed blob reference");
    }

    @Test
    void codecIsSerializableForFlink(@TempDir Path dir) throws Exception {
        MinibatchCodec codec = MinibatchCodec.withBlobStore(new FileBlobStore(dir), 8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(codec);
        }
        MinibatchCodec copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (MinibatchCodec) in.readObject();
        }
        Minibatch mb = MinibatchArbitraries.sample(DType.FP16);
        assertThat(copy.decode(codec.encode(mb))).isEqualTo(mb);
    }
}
