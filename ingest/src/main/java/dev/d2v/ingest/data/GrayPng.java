package dev.d2v.ingest.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** 8-bit grayscale PNG encoding and decoding with ImageIO (no metadata chunks, so same pixels, same bytes). */
public final class GrayPng {
    private GrayPng() {
    }

    /** Encodes row-major pixels [height * width] (0 = black, 255 = white) as a grayscale PNG. */
    public static byte[] encode(byte[] pixels, int width, int height) {
        if (pixels.length != width * height) {
            throw new IllegalArgumentException("pixels " + pixels.length + " != " + width + "x" + height);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] raster = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(pixels, 0, raster, 0, pixels.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        // a memory-cached stream: ImageIO.write(img, "png", OutputStream) would, by default, buffer every
        // image through a temporary file, which made 70k small PNGs several times slower
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.write(img);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory stream does not fail
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** Decodes a grayscale PNG back to its row-major pixels [height * width]. */
    public static byte[] decode(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        if (img == null) {
            throw new IOException("not a PNG image (" + png.length + " bytes)");
        }
        if (img.getType() != BufferedImage.TYPE_BYTE_GRAY) {
            throw new IOException("PNG is not 8-bit grayscale (BufferedImage type " + img.getType() + ")");
        }
        return ((DataBufferByte) img.getRaster().getDataBuffer()).getData().clone();
    }
}
