package dev.deepnet.data;

import dev.deepnet.tensor.Shape;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * How an image becomes a model's input sample {@code (channels, height, width)}: what a model was
 * trained on, kept with it ({@code ModelFile} stores it, {@code deepnet train} writes it) so that
 * whoever serves the model feeds it the same.
 *
 * <ol>
 *   <li>the image's colours: grey for a 1-channel model (an RGB image becomes its luma,
 *       {@code (19595 R + 38470 G + 7471 B + 2^15) >> 16} like PIL's {@code convert("L")}), R, G, B for
 *       a 3-channel one (a grey image gives three equal channels); alpha is dropped;
 *   <li>its size: the shorter side scaled to {@link #resize()} (bilinear, halving first when
 *       shrinking by more than 2), then the centre {@code width x height} cut out, as
 *       {@link ImageFolder} does for training; an image that already is {@code width x height} is
 *       left as it is when {@code resize} is its shorter side (a square input of side
 *       {@code resize}: a rectangular input, or a larger {@code resize}, rescales every image);
 *   <li>each value {@code v / 255} (inverted to {@code 1 - v / 255} if {@link #inverted()})
 *       normalised to {@code (v - mean[c]) / std[c]}.
 * </ol>
 *
 * <p>An image of another size or colour than the model's is converted and the {@link Prepared}
 * sample lists each change ({@link Mismatch#CONVERT}, the default), or refused with an
 * {@link IllegalArgumentException} that says what the model takes ({@link Mismatch#REFUSE}: images
 * must come in the model's size and colour already, and are then only normalised).
 * Immutable.
 */
public final class ImagePreprocessing {

    /** What to do with an image whose size or colour is not the model's. */
    public enum Mismatch {
        /** Convert it (colours, then shorter side and centre crop) and say so. */
        CONVERT,
        /** Refuse it. */
        REFUSE
    }

    /** An image as a model input: the sample's floats and how the image was changed to fit (empty when it fitted). */
    public record Prepared(float[] sample, List<String> conversions) {
        public Prepared {
            conversions = List.copyOf(conversions);
        }
    }

    private final int channels;
    private final int height;
    private final int width;
    private final int resize;
    private final float[] mean;
    private final float[] std;
    private final boolean inverted;
    private final Mismatch mismatch;

    private ImagePreprocessing(int channels, int height, int width, int resize, float[] mean, float[] std, boolean inverted,
                               Mismatch mismatch) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("images have 1 (grey) or 3 (RGB) channels, got " + channels);
        }
        if (height < 1 || width < 1 || (long) height * width * channels > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("an image input needs a positive size that fits an array, got " + width + "x" + height);
        }
        if (resize < Math.max(height, width)) {
            throw new IllegalArgumentException("resize (the shorter side before the centre crop) must be at least the input's larger side "
                    + Math.max(height, width) + ", got " + resize);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("mean and std need one value per channel (" + channels + "), got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        for (int c = 0; c < channels; c++) {
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] <= 0) {
                throw new IllegalArgumentException("mean must be finite and std finite and positive, got mean " + Arrays.toString(mean)
                        + " and std " + Arrays.toString(std));
            }
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = resize;
        this.mean = mean.clone();
        this.std = std.clone();
        this.inverted = inverted;
        this.mismatch = Objects.requireNonNull(mismatch, "mismatch");
    }

    /**
     * Images to {@code (channels, height, width)}: shorter side to {@code resize}, the centre cut
     * out, normalised by {@code mean} and {@code std} (one per channel); others converted.
     */
    public static ImagePreprocessing of(int channels, int height, int width, int resize, float[] mean, float[] std) {
        return new ImagePreprocessing(channels, height, width, resize, mean, std, false, Mismatch.CONVERT);
    }

    /** Grey images of {@code height x width} with values {@code v / 255} in [0, 1]: MNIST and Fashion-MNIST. */
    public static ImagePreprocessing grey(int height, int width) {
        return of(1, height, width, Math.max(height, width), new float[] {0}, new float[] {1});
    }

    /**
     * RGB images as ImageNet models take them: shorter side to {@code crop * 256 / 227} (256 for
     * AlexNet's 227), the centre {@code crop x crop}, ImageNet's mean and std ({@link ImageFolder}'s defaults).
     */
    public static ImagePreprocessing imagenet(int crop) {
        return of(3, crop, crop, Math.max(crop, crop * 256 / 227), ImageFolder.imagenetMean(), ImageFolder.imagenetStd());
    }

    /**
     * What a model saved without its preprocessing is given: for samples {@code (1, h, w)},
     * {@link #grey}; for {@code (3, h, w)} with {@code h == w}, {@link #imagenet}; for {@code (3, h, w)}
     * otherwise, RGB with ImageNet's mean and std and the shorter side to {@code max(h, w)};
     * nothing for any other shape (not an image).
     */
    public static Optional<ImagePreprocessing> defaultFor(Shape sample) {
        if (sample.rank() != 3 || (sample.dim(0) != 1 && sample.dim(0) != 3) || sample.dim(1) > Integer.MAX_VALUE
                || sample.dim(2) > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        int h = sample.intDim(1);
        int w = sample.intDim(2);
        try {
            if (sample.dim(0) == 1) {
                return Optional.of(grey(h, w));
            }
            return Optional.of(h == w ? imagenet(h)
                    : of(3, h, w, Math.max(h, w), ImageFolder.imagenetMean(), ImageFolder.imagenetStd()));
        } catch (IllegalArgumentException tooLarge) {
            return Optional.empty();
        }
    }

    /** This preprocessing, doing {@code mismatch} with images of another size or colour. */
    public ImagePreprocessing withMismatch(Mismatch mismatch) {
        return new ImagePreprocessing(channels, height, width, resize, mean, std, inverted, mismatch);
    }

    /** This preprocessing, inverting values ({@code 1 - v / 255}) or not: dark objects on light ground for a model of the opposite. */
    public ImagePreprocessing inverted(boolean inverted) {
        return new ImagePreprocessing(channels, height, width, resize, mean, std, inverted, mismatch);
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The length the image's shorter side is scaled to before the centre {@code width x height} is cut out. */
    public int resize() {
        return resize;
    }

    /** Per-channel mean subtracted from {@code v / 255} (a copy). */
    public float[] mean() {
        return mean.clone();
    }

    /** Per-channel standard deviation {@code v / 255 - mean} is divided by (a copy). */
    public float[] std() {
        return std.clone();
    }

    public boolean inverted() {
        return inverted;
    }

    public Mismatch mismatch() {
        return mismatch;
    }

    /** The sample shape this makes: {@code (channels, height, width)}. */
    public Shape sampleShape() {
        return Shape.of(channels, height, width);
    }

    /**
     * The image file as a sample, decoded within the {@link DataLimits#fromSystemProperties()
     * limits the system properties set}.
     *
     * @throws DataFormatException naming the file when it cannot be decoded or is too large
     * @throws IllegalArgumentException naming the file when it does not fit and this refuses such images
     */
    public Prepared apply(Path image) throws IOException {
        return apply(image, DataLimits.fromSystemProperties());
    }

    /** {@link #apply(Path)} within {@code limits}. */
    public Prepared apply(Path image, DataLimits limits) throws IOException {
        BufferedImage decoded = ImageFolder.decode(image, limits);
        try {
            return apply(decoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(image + ": " + e.getMessage(), e);
        }
    }

    /**
     * An encoded image (PNG, JPEG, BMP, GIF: e.g. the body of a request) as a sample, decoded
     * within {@code limits} like a file: its size is read from its header and checked before
     * decoding. {@code name} says where it came from in messages (the exception's
     * {@link DataFormatException#file()} is {@code Path.of(name)}).
     *
     * @throws DataFormatException naming {@code name} when it cannot be decoded or is too large
     * @throws IllegalArgumentException when it does not fit and this refuses such images
     */
    public Prepared apply(byte[] encoded, String name, DataLimits limits) throws IOException {
        Path source = Path.of(name);
        BufferedImage decoded = ImageFolder.decode(new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded)), source, limits); // never a temporary file
        try {
            return apply(decoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    /**
     * The image as a sample.
     *
     * @throws IllegalArgumentException when it does not fit and this refuses such images
     */
    public Prepared apply(BufferedImage image) {
        float[] out = new float[channels * width * height];
        return new Prepared(out, applyInto(image, out, 0));
    }

    /** Writes the image as a sample into {@code out[offset ..]} and returns how it was changed to fit. */
    List<String> applyInto(BufferedImage image, float[] out, int offset) {
        int w = image.getWidth();
        int h = image.getHeight();
        boolean grey = isGrey(image);
        boolean sameSize = w == width && h == height;
        boolean sameColour = grey == (channels == 1);
        if (mismatch == Mismatch.REFUSE && !(sameSize && sameColour)) {
            throw new IllegalArgumentException("the image is " + w + "x" + h + " " + (grey ? "grey" : "colour") + " but the model takes "
                    + width + "x" + height + " " + (channels == 1 ? "grey" : "RGB") + " images, and its preprocessing refuses others"
                    + " (mismatch: refuse)");
        }
        List<String> conversions = new ArrayList<>();
        if (!sameColour) {
            conversions.add(channels == 1 ? "converted colour to grey" : "converted grey to RGB");
        }
        BufferedImage rgb = ImageFolder.toRgb(image);
        boolean asItIs = sameSize && (mismatch == Mismatch.REFUSE || resize == Math.min(width, height));
        if (!asItIs) {
            rgb = ImageFolder.scaleAndCrop(rgb, resize, width, height);
            conversions.add(String.format(Locale.ROOT, "resized %dx%d to %dx%d (shorter side to %d, centre crop)", w, h, width, height,
                    resize));
        }
        // Read through the raster, not its buffer: a caller's image may be a sub-image of a larger one.
        int[] pixels = (int[]) rgb.getRaster().getDataElements(0, 0, width, height, null);
        int plane = width * height;
        for (int i = 0; i < plane; i++) {
            int p = pixels[i];
            int r = (p >>> 16) & 0xff;
            int g = (p >>> 8) & 0xff;
            int b = p & 0xff;
            if (channels == 1) {
                out[offset + i] = value(((19595 * r + 38470 * g + 7471 * b + (1 << 15)) >> 16), 0);
            } else {
                out[offset + i] = value(r, 0);
                out[offset + plane + i] = value(g, 1);
                out[offset + 2 * plane + i] = value(b, 2);
            }
        }
        return conversions;
    }

    private float value(int v, int c) {
        float x = v / 255f;
        if (inverted) {
            x = 1 - x;
        }
        return (x - mean[c]) / std[c];
    }

    /** Grey when its colour space is grey (a palette is taken as colour, even a grey one: converting it changes no value). */
    private static boolean isGrey(BufferedImage image) {
        return !(image.getColorModel() instanceof IndexColorModel)
                && image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImagePreprocessing p && channels == p.channels && height == p.height && width == p.width
                && resize == p.resize && Arrays.equals(mean, p.mean) && Arrays.equals(std, p.std) && inverted == p.inverted
                && mismatch == p.mismatch;
    }

    @Override
    public int hashCode() {
        return Objects.hash(channels, height, width, resize, Arrays.hashCode(mean), Arrays.hashCode(std), inverted, mismatch);
    }

    @Override
    public String toString() {
        return (channels == 1 ? "grey " : "RGB ") + width + "x" + height + ", shorter side to " + resize + ", mean "
                + Arrays.toString(mean) + ", std " + Arrays.toString(std) + (inverted ? ", inverted" : "") + ", "
                + mismatch.name().toLowerCase(Locale.ROOT) + " other sizes and colours";
    }
}
