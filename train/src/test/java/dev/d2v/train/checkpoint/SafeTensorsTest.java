package dev.d2v.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;
    NDManager m;

    @BeforeEach
    void manager() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        m.close();
    }

    private Map<String, NDArray> sample() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("w", m.create(new float[] {1.5f, -2f, 3.25f, Float.MIN_VALUE, -0f, 7e30f}, new Shape(2, 3)));
        t.put("count", m.create(new long[] {Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE}));
        t.put("ids", m.create(new int[] {7, -8, Integer.MAX_VALUE}));
        t.put("pix", m.create(ByteBuffer.wrap(new byte[] {0, 1, (byte) 255, (byte) 128}), new Shape(2, 2), DataType.UINT8));
        t.put("half", m.create(new float[] {0.5f, -1.25f, 65504f}).toType(DataType.FLOAT16, false));
        t.put("scalar", m.create(3.0f));
        t.put("empty", m.zeros(new Shape(0, 4), DataType.FLOAT32));
        return t;
    }

    @Test
    void roundTripKeepsValuesShapesAndTypes() throws IOException {
        Map<String, NDArray> in = sample();
        Path f = dir.resolve("a.safetensors");
        String sha = SafeTensors.write(f, in, Map.of("format", "test", "note", "é"));
        assertThat(sha).isEqualTo(Digests.sha256Hex(f));
        SafeTensors.Contents c = SafeTensors.read(f, m);
        assertThat(c.metadata()).containsEntry("format", "test").containsEntry("note", "é");
        assertThat(c.tensors().keySet()).containsExactlyInAnyOrderElementsOf(in.keySet());
        for (var e : in.entrySet()) {
            NDArray out = c.tensors().get(e.getKey());
            assertThat(out.getShape()).as(e.getKey()).isEqualTo(e.getValue().getShape());
            assertThat(out.getDataType()).as(e.getKey()).isEqualTo(e.getValue().getDataType());
            assertThat(out.toByteArray()).as(e.getKey()).isEqualTo(e.getValue().toByteArray());
        }
        assertThat(c.tensors().get("count").toLongArray())
                .containsExactly(Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE);
        assertThat(c.tensors().get("w").toFloatArray()).containsExactly(1.5f, -2f, 3.25f, Float.MIN_VALUE, -0f, 7e30f);
    }

    /** A transposed (non-contiguous) view is written in its logical row-major order. */
    @Test
    void nonContiguousViewsAreWrittenRowMajor() throws IOException {
        NDArray t = m.arange(6f).reshape(2, 3).transpose(); // (3, 2): 0 3 / 1 4 / 2 5
        Path f = dir.resolve("t.safetensors");
        SafeTensors.write(f, Map.of("t", t), Map.of());
        NDArray back = SafeTensors.read(f, m).tensors().get("t");
        assertThat(back.getShape()).isEqualTo(new Shape(3, 2));
        assertThat(back.toFloatArray()).containsExactly(0f, 3f, 1f, 4f, 2f, 5f);
    }

    /** The layout by the spec, parsed here by hand: u64 LE length, JSON header, offsets relative to the data start. */
    @Test
    void bytesFollowTheSpec() throws IOException {
        Path f = dir.resolve("b.safetensors");
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("z", m.create(new float[] {1f, 2f}));
        in.put("a", m.create(new long[] {3L}));
        SafeTensors.write(f, in, Map.of("k", "v"));
        byte[] b = Files.readAllBytes(f);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long n = le.getLong(0);
        assertThat((8 + n) % 8).isZero();
        JsonNode h = new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8).trim());
        assertThat(h.get("__metadata__").get("k").asText()).isEqualTo("v");
        assertThat(h.get("a").get("dtype").asText()).isEqualTo("I64");
        assertThat(h.get("a").get("shape").toString()).isEqualTo("[1]");
        assertThat(h.get("a").get("data_offsets").toString()).isEqualTo("[0,8]");
        assertThat(h.get("z").get("dtype").asText()).isEqualTo("F32");
        assertThat(h.get("z").get("data_offsets").toString()).isEqualTo("[8,16]");
        int data = (int) (8 + n);
        assertThat(b.length).isEqualTo(data + 16);
        assertThat(le.getLong(data)).isEqualTo(3L);
        assertThat(le.getFloat(data + 8)).isEqualTo(1f);
        assertThat(le.getFloat(data + 12)).isEqualTo(2f);
    }

    @Test
    void sameTensorsGiveSameBytes() throws IOException {
        Path a = dir.resolve("1.safetensors");
        Path b = dir.resolve("2.safetensors");
        Map<String, NDArray> in = sample();
        SafeTensors.write(a, in, Map.of("x", "1"));
        Map<String, NDArray> reversed = new LinkedHashMap<>();
        in.keySet().stream().sorted(Comparator.reverseOrder()).forEach(k -> reversed.put(k, in.get(k)));
        SafeTensors.write(b, reversed, Map.of("x", "1"));
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    }

    /** DJL's own safetensors reader (NDList.decode) takes our files, and ours takes DJL's. */
    @Test
    void interoperatesWithDjlsCodec() throws IOException {
        Path f = dir.resolve("c.safetensors");
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("w", m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2)));
        in.put("n", m.create(new long[] {5L, 6L}));
        SafeTensors.write(f, in, Map.of("format", "x"));
        try (InputStream is = Files.newInputStream(f)) {
            NDList djl = NDList.decode(m, is);
            assertThat(djl.get("w").toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
            assertThat(djl.get("w").getShape()).isEqualTo(new Shape(2, 2));
            assertThat(djl.get("n").toLongArray()).containsExactly(5L, 6L);
        }
        NDArray w = m.create(new float[] {9f, 8f}, new Shape(1, 2));
        w.setName("w");
        NDArray i = m.create(new int[] {1, 2, 3});
        i.setName("i");
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        new NDList(w, i).encode(bos, NDList.Encoding.SAFETENSORS);
        Path g = dir.resolve("djl.safetensors");
        Files.write(g, bos.toByteArray());
        SafeTensors.Contents c = SafeTensors.read(g, m);
        assertThat(c.tensors().get("w").toFloatArray()).containsExactly(9f, 8f);
        assertThat(c.tensors().get("i").toIntArray()).containsExactly(1, 2, 3);
    }

    @Test
    void rejectsHolesTruncationAndBadHeaders() throws IOException {
        Path f = dir.resolve("d.safetensors");
        SafeTensors.write(f, Map.of("a", m.create(new float[] {1f, 2f}), "b", m.create(new float[] {3f})), Map.of());
        byte[] good = Files.readAllBytes(f);

        Path truncated = dir.resolve("t.safetensors");
        Files.write(truncated, Arrays.copyOf(good, good.length - 1));
        assertThatThrownBy(() -> SafeTensors.header(truncated)).hasMessageContaining("truncated");

        Path trailing = dir.resolve("x.safetensors");
        Files.write(trailing, Arrays.copyOf(good, good.length + 4));
        assertThatThrownBy(() -> SafeTensors.header(trailing)).hasMessageContaining("trailing bytes");

        Path hugeLen = dir.resolve("h.safetensors");
        byte[] h = good.clone();
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(hugeLen, h);
        assertThatThrownBy(() -> SafeTensors.header(hugeLen)).hasMessageContaining("header length");

        Path hole = dir.resolve("hole.safetensors");
        String json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        Files.write(hole, file(json, new byte[8]));
        assertThatThrownBy(() -> SafeTensors.header(hole)).hasMessageContaining("holes or overlaps");

        Path wrongLen = dir.resolve("len.safetensors");
        Files.write(wrongLen, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]));
        assertThatThrownBy(() -> SafeTensors.header(wrongLen)).hasMessageContaining("needs 12");

        Path dtype = dir.resolve("dt.safetensors");
        Files.write(dtype, file("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]));
        assertThatThrownBy(() -> SafeTensors.header(dtype)).hasMessageContaining("F8_E4M3");
    }

    private static byte[] file(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }
}
