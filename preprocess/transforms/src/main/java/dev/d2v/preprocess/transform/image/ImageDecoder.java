package dev.d2v.preprocess.transform.image;

import dev.d2v.preprocess.transform.BadRecordException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * PNG/JPEG bytes to float planes in [0, 255]. The format readers come from ImageIO's registry (the JDK's
 * PNG reader; TwelveMonkeys' JPEG reader for CMYK, YCCK, progressive and broken-marker JPEGs).
 * Dimensions are read from the header and checked against maxPixels before any raster is allocated.
 */
public final class ImageDecoder {

    static {
        ImageIO.setUseCache(false); // no temp files: decoding happens from memory only
        ImageIO.scanForPlugins();
    }

    private ImageDecoder() {}

    /** A decoded image: planes[c][y * width + x], values 0..255; c = 1 (gray) or 3 (R, G, B). */
    public record Planes(int width, int height, float[][] planes) {}

    /** Decodes to the requested channel count (1 = luminance, 3 = RGB). */
    public static Planes decode(byte[] bytes, int channels, long maxPixels, long maxBytes) {
        BadRecordException.checkSize(bytes, maxBytes, "image");
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadRecordException(BadRecordException.UNDECODABLE_IMAGE,
                        "no image reader recognises these " + bytes.length + " bytes (expected PNG or JPEG)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0); // header only: no raster decoded yet
                long h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > maxPixels) {
                    throw new BadRecordException(BadRecordException.IMAGE_TOO_LARGE, "header declares " + w + "x" + h
                            + " pixels, above the configured maxPixels " + maxPixels);
                }
                ImageReadParam param = reader.getDefaultReadParam();
                int step = subsampling(w, h);
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0, param);
                if (!warnings.isEmpty()) {
                    // a truncated JPEG decodes with "Premature end of JPEG file" and gray where the data ran out
                    throw new BadRecordException(BadRecordException.UNDECODABLE_IMAGE,
                            "the image is corrupt or truncated: " + warnings.get(0));
                }
                return toPlanes(image, channels);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadRecordException bad) {
                throw bad;
            }
            throw new BadRecordException(BadRecordException.UNDECODABLE_IMAGE,
                    "cannot decode image: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Every how many pixels a large image is read: 1 up to {@value #DECODE_PIXELS} pixels, else the smallest step
     * that keeps the decoded raster within them. A 40-megapixel photo would otherwise take 160 MB as a raster and
     * 480 MB as float planes in one task for a 28 x 28 or 224 x 224 example; read every s-th pixel it takes at most
     * 16 MB + 48 MB. (The crop and the area resize then work on the subsampled image; images of at most
     * {@value #DECODE_PIXELS} pixels, every dataset here, are read whole.)
     */
    static int subsampling(long width, long height) {
        long pixels = width * height;
        int step = 1;
        while (pixels > (long) DECODE_PIXELS * step * step) {
            step++;
        }
        return step;
    }

    /** Pixels decoded at most per image: 2048 x 2048. */
    static final int DECODE_PIXELS = 1 << 22;

    /** BufferedImage to planes; single-band gray is read from the raster to skip a gamma conversion. */
    static Planes toPlanes(BufferedImage img, int channels) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[][] out = new float[channels][w * h];
        Raster raster = img.getRaster();
        boolean plainGray = raster.getNumBands() == 1 && img.getColorModel().getNumComponents() == 1
                && img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        if (plainGray) {
            // getRGB would map linear CS_GRAY to sRGB and brighten mid-grays; the stored samples are what we want
            float scale = 255f / ((1 << raster.getSampleModel().getSampleSize(0)) - 1);
            float[] row = new float[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = row[x] * scale;
                    for (int c = 0; c < channels; c++) {
                        out[c][y * w + x] = v;
                    }
                }
            }
            return new Planes(w, h, out);
        }
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, argb, 0, w); // alpha is ignored: pixels keep their colour
            for (int x = 0; x < w; x++) {
                int p = argb[x];
                float r = (p >> 16) & 0xff;
                float g = (p >> 8) & 0xff;
                float b = p & 0xff;
                if (channels == 1) {
                    out[0][y * w + x] = 0.299f * r + 0.587f * g + 0.114f * b; // ITU-R BT.601 luma, as PIL "L"
                } else {
                    out[0][y * w + x] = r;
                    out[1][y * w + x] = g;
                    out[2][y * w + x] = b;
                }
            }
        }
        return new Planes(w, h, out);
    }
}
