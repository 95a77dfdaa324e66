package dev.d2v.pipelines.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Labeled PNG folders in the probe layout {@code <root>/{train,test}/<label>/<file>}: the probe task of `bench soak`'s
 * evaluator, and of the command tests.
 */
final class ProbeImages {

    private ProbeImages() {}

    /** 48 28x28 PNGs, a bright square in the left or the right half: 32 train, 16 test. */
    static Path halves(Path root) throws IOException {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 48; i++) {
            String label = i % 2 == 0 ? "left" : "right";
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            int x0 = (label.equals("left") ? 0 : 14) + r.nextInt(4);
            int y0 = r.nextInt(16);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = x >= x0 && x < x0 + 10 && y >= y0 && y < y0 + 10;
                    img.getRaster().setSample(x, y, 0, on ? 220 + r.nextInt(30) : r.nextInt(30));
                }
            }
            Path f = root.resolve(i < 32 ? "train" : "test").resolve(label).resolve(i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        return root;
    }
}
