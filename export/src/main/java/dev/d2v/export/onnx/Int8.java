package dev.d2v.export.onnx;

/**
 * Symmetric int8 quantization of weights: q = round(w / s) in [-127, 127], s = max |w| / 127 over a group (a column
 * of a (in, out) MatMul weight, or a row of an embedding table); a group of zeros gets s = 1.
 */
final class Int8 {

    private Int8() {}

    /** Quantized values in the input's layout, and one scale per group. */
    record Quantized(byte[] values, float[] scales) {}

    /** a (rows, cols) row-major, one scale per column. */
    static Quantized perColumn(float[] a, int rows, int cols) {
        float[] scales = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                scales[c] = Math.max(scales[c], Math.abs(a[r * cols + c]));
            }
        }
        for (int c = 0; c < cols; c++) {
            scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
        }
        byte[] q = new byte[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = quantize(a[r * cols + c], scales[c]);
            }
        }
        return new Quantized(q, scales);
    }

    /** a (rows, cols) row-major, one scale per row. */
    static Quantized perRow(float[] a, int rows, int cols) {
        float[] scales = new float[rows];
        byte[] q = new byte[a.length];
        for (int r = 0; r < rows; r++) {
            float max = 0;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, Math.abs(a[r * cols + c]));
            }
            scales[r] = max > 0 ? max / 127f : 1f;
            for (int c = 0; c < cols; c++) {
                q[r * cols + c] = quantize(a[r * cols + c], scales[r]);
            }
        }
        return new Quantized(q, scales);
    }

    private static byte quantize(float v, float scale) {
        return (byte) Math.max(-127, Math.min(127, Math.round(v / scale)));
    }
}
