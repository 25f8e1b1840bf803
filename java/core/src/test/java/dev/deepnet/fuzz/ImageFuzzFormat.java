package dev.deepnet.fuzz;

import dev.deepnet.data.DataFormatException;
import dev.deepnet.data.ImageFolder;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Images through {@link ImageFolder#preprocess}, the path every image of an image folder takes:
 * decoded by javax.imageio, converted to RGB, scaled and cropped. The corpus: tiny PNG (RGB, grey,
 * alpha, palette, 16-bit, 1-bit), JPEG (colour, grey), BMP (RGB, palette) and GIF images written
 * by ImageIO itself.
 */
public final class ImageFuzzFormat implements FuzzFormat {

    private static final float[] MEAN = ImageFolder.imagenetMean();
    private static final float[] STD = ImageFolder.imagenetStd();

    @Override
    public String name() {
        return "image";
    }

    @Override
    public List<Seed> seeds(Path scratch) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        seeds.add(encode("png-rgb-5x4", image(5, 4, BufferedImage.TYPE_INT_RGB), "png"));
        seeds.add(encode("png-gray-3x3", image(3, 3, BufferedImage.TYPE_BYTE_GRAY), "png"));
        seeds.add(encode("png-argb-4x4", image(4, 4, BufferedImage.TYPE_INT_ARGB), "png"));
        seeds.add(encode("png-palette-4x4", image(4, 4, BufferedImage.TYPE_BYTE_INDEXED), "png"));
        seeds.add(encode("png-gray16-3x2", image(3, 2, BufferedImage.TYPE_USHORT_GRAY), "png"));
        seeds.add(encode("png-1bit-8x2", image(8, 2, BufferedImage.TYPE_BYTE_BINARY), "png"));
        seeds.add(encode("jpeg-rgb-8x8", image(8, 8, BufferedImage.TYPE_INT_RGB), "jpeg"));
        seeds.add(encode("jpeg-gray-8x16", image(8, 16, BufferedImage.TYPE_BYTE_GRAY), "jpeg"));
        seeds.add(encode("bmp-rgb-4x3", image(4, 3, BufferedImage.TYPE_INT_RGB), "bmp"));
        seeds.add(encode("bmp-palette-4x4", image(4, 4, BufferedImage.TYPE_BYTE_INDEXED), "bmp"));
        seeds.add(encode("gif-4x4", image(4, 4, BufferedImage.TYPE_BYTE_INDEXED), "gif"));
        return seeds;
    }

    /** A small image of {@code type} holding a fixed pseudo-random pattern. */
    private static BufferedImage image(int w, int h, int type) {
        BufferedImage image = new BufferedImage(w, h, type);
        SplittableRandom random = new SplittableRandom(31L * w + h + type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, random.nextInt());
            }
        }
        return image;
    }

    private static Seed encode(String name, BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IOException("ImageIO has no " + format + " writer for an image of type " + image.getType());
        }
        return new Seed(name, out.toByteArray());
    }

    @Override
    public List<Mutator> structureMutators() {
        return ImageMutators.all();
    }

    @Override
    public void load(Path file, Path scratch) throws IOException {
        // Resize 6 then crop 4: both the halving and the final scaling steps run, on little memory.
        float[] sample = ImageFolder.preprocess(file, 6, 4, MEAN, STD);
        if (sample.length != 3 * 4 * 4) {
            throw new IllegalStateException("preprocess returned " + sample.length + " floats for a 3 x 4 x 4 sample");
        }
    }

    @Override
    public Class<? extends IOException> rejection() {
        return DataFormatException.class;
    }
}
