package dev.deepnet.data;

import dev.deepnet.tensor.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.MultiPixelPackedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * An image-classification dataset read from a folder holding one sub-folder per class:
 * {@code root/cat/1.jpg, root/dog/a/2.png, ...}. The class names are the sub-folders' names,
 * sorted ({@link String#compareTo}); a sample's label is its class's index in that list.
 *
 * <p>What counts as an image: a regular file, anywhere below a class folder, whose extension is
 * one of {@link #EXTENSIONS} (any case). Other files (a {@code README.txt}, {@code labels.csv})
 * are ignored, as are files and folders whose names start with {@code '.'} ({@code .DS_Store},
 * macOS {@code ._x.jpg} resource forks, {@code .ipynb_checkpoints}). Links are followed. Files
 * with an image extension that ImageIO cannot decode, or whose header declares more pixels than
 * {@link DataLimits#maxImagePixels()} (a decompression bomb: a 389 KB PNG can declare 20000 x 20000)
 * or than the heap can decode, are errors, or skipped and listed in {@link #skipped()} when asked.
 * A class folder without images, or a root without class folders, is an error.
 *
 * <p>Every image goes through {@link #preprocess}: the evaluation-time preprocessing of AlexNet
 * (shorter side scaled to {@code resize}, the centre {@code crop x crop} cut out) followed by
 * per-channel normalisation, giving samples of shape (3, crop, crop). Images are decoded one at
 * a time and written straight into the one float array the {@link Dataset} is made from.
 */
public final class ImageFolder implements AutoCloseable {

    /** The extensions (lower case) of files read as images. */
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp", "gif");

    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    /** The largest float array a JVM allocates, with the usual header allowance. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Dataset dataset;
    private final List<String> classes;
    private final List<Path> files;
    private final List<Path> skipped;

    private ImageFolder(Dataset dataset, List<String> classes, List<Path> files, List<Path> skipped) {
        this.dataset = dataset;
        this.classes = classes;
        this.files = files;
        this.skipped = skipped;
    }

    /** The per-channel (R, G, B) mean of ImageNet, used by models trained on it (a copy). */
    public static float[] imagenetMean() {
        return IMAGENET_MEAN.clone();
    }

    /** The per-channel (R, G, B) standard deviation of ImageNet (a copy). */
    public static float[] imagenetStd() {
        return IMAGENET_STD.clone();
    }

    /**
     * Loads {@code root} with ImageNet's mean and std, within the
     * {@link DataLimits#fromSystemProperties() limits the system properties set}; any unreadable
     * image is an error.
     */
    public static ImageFolder load(Path root, int resize, int crop) throws IOException {
        return load(root, resize, crop, IMAGENET_MEAN, IMAGENET_STD, false);
    }

    /**
     * Loads every image below {@code root}'s class folders, preprocessed as by {@link #preprocess},
     * within the {@link DataLimits#fromSystemProperties() limits the system properties set}.
     *
     * @param skipUnreadable when false, the first image ImageIO cannot decode (or the limits
     *     refuse) throws a {@link DataFormatException} naming it; when true it is left out and
     *     listed in {@link #skipped()}
     * @throws DataFormatException when {@code root} has no class folders, a class folder has no
     *     images, no image at all is readable, the samples would not fit in the heap, or (unless
     *     skipped) an image is unreadable
     */
    public static ImageFolder load(Path root, int resize, int crop, float[] mean, float[] std, boolean skipUnreadable)
            throws IOException {
        return load(root, resize, crop, mean, std, skipUnreadable, DataLimits.fromSystemProperties());
    }

    /**
     * {@link #load(Path, int, int, float[], float[], boolean)} within {@code limits}: an image
     * declaring more than {@link DataLimits#maxImagePixels()} is refused from its header, before
     * it is decoded.
     */
    public static ImageFolder load(Path root, int resize, int crop, float[] mean, float[] std, boolean skipUnreadable,
            DataLimits limits) throws IOException {
        Preprocessing p = new Preprocessing(resize, crop, mean, std, limits);
        if (!Files.isDirectory(root)) {
            throw new DataFormatException(root, "not a directory; expected a folder with one sub-folder per class");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(d -> !hidden(d) && Files.isDirectory(d))
                    .sorted(Comparator.comparing(d -> d.getFileName().toString())).toList();
        }
        if (classDirs.isEmpty()) {
            throw new DataFormatException(root, "no class folders; expected one sub-folder per class, each holding images ("
                    + String.join(", ", EXTENSIONS) + ")");
        }
        List<String> classes = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        List<Integer> candidateLabels = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> images = imagesIn(dir);
            if (images.isEmpty()) {
                throw new DataFormatException(dir, "class folder '" + dir.getFileName() + "' holds no images ("
                        + String.join(", ", EXTENSIONS) + ")");
            }
            for (Path image : images) {
                candidates.add(image);
                candidateLabels.add(classes.size());
            }
            classes.add(dir.getFileName().toString());
        }

        int sample = p.sampleSize();
        long floats = (long) candidates.size() * sample;
        if (floats > MAX_ARRAY) {
            throw new DataFormatException(root, candidates.size() + " images of 3 x " + crop + " x " + crop + " floats need "
                    + floats + " floats, more than one Java array holds (" + MAX_ARRAY + "); use fewer images or a smaller crop");
        }
        DataLimits.requireHeap(root, -1, 4 * floats, candidates.size() + " images of 3 x " + crop + " x " + crop
                + " floats");
        float[] inputs = new float[(int) floats];
        int[] labels = new int[candidates.size()];
        List<Path> files = new ArrayList<>();
        List<Path> skipped = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Path image = candidates.get(i);
            try {
                p.apply(image, inputs, files.size() * sample);
            } catch (DataFormatException e) {
                if (!skipUnreadable) {
                    throw e;
                }
                skipped.add(image);
                continue;
            }
            labels[files.size()] = candidateLabels.get(i);
            files.add(image);
        }
        if (files.isEmpty()) {
            throw new DataFormatException(root, "none of the " + candidates.size() + " images could be read, e.g. "
                    + skipped.getFirst());
        }
        if (!skipped.isEmpty()) { // trim the unused tail; costs a copy only when something was skipped
            inputs = Arrays.copyOf(inputs, files.size() * sample);
            labels = Arrays.copyOf(labels, files.size());
        }
        Dataset dataset = Dataset.classification(inputs, Shape.of(3, crop, crop), labels, classes.size());
        return new ImageFolder(dataset, List.copyOf(classes), List.copyOf(files), List.copyOf(skipped));
    }

    /** Image files below {@code dir}, not hidden, sorted by path. */
    private static List<Path> imagesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            return s.filter(f -> !hiddenBelow(dir, f) && hasImageExtension(f) && Files.isRegularFile(f))
                    .sorted().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause(); // e.g. FileSystemLoopException naming the looping path
        }
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static boolean hiddenBelow(Path dir, Path f) {
        for (Path part : dir.relativize(f)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasImageExtension(Path f) {
        String name = f.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * One image as a model input: (3, crop, crop) floats, channels R, G, B, row-major.
     *
     * <ol>
     *   <li>decoded by ImageIO (the first frame of a GIF); grayscale gives three equal channels,
     *       alpha is dropped (as PIL's {@code convert("RGB")} does);
     *   <li>scaled so its shorter side is {@code resize} pixels, the longer side
     *       {@code floor(long * resize / short)}: bilinear, halving repeatedly first when shrinking
     *       by more than 2, which averages areas and avoids aliasing;
     *   <li>the centre {@code crop x crop} square cut out (offsets rounded down);
     *   <li>each channel value {@code v / 255} normalised to {@code (v / 255 - mean[c]) / std[c]}.
     * </ol>
     *
     * <p>Within the {@link DataLimits#fromSystemProperties() limits the system properties set}.
     *
     * @throws DataFormatException naming the file when ImageIO cannot decode it, or its header
     *     declares more pixels than {@link DataLimits#maxImagePixels()} or the heap allow
     * @throws IllegalArgumentException when {@code crop > resize}, a size is not positive, or
     *     {@code mean} / {@code std} do not hold three finite values (std positive)
     */
    public static float[] preprocess(Path image, int resize, int crop, float[] mean, float[] std) throws IOException {
        return preprocess(image, resize, crop, mean, std, DataLimits.fromSystemProperties());
    }

    /**
     * {@link #preprocess(Path, int, int, float[], float[])} within {@code limits}: an image
     * declaring more than {@link DataLimits#maxImagePixels()} is refused from its header, before
     * it is decoded.
     */
    public static float[] preprocess(Path image, int resize, int crop, float[] mean, float[] std, DataLimits limits)
            throws IOException {
        Preprocessing p = new Preprocessing(resize, crop, mean, std, limits);
        float[] out = new float[p.sampleSize()];
        p.apply(image, out, 0);
        return out;
    }

    /** The arguments of {@link #preprocess}, checked once, with a lookup table per channel. */
    private static final class Preprocessing {
        private final ImagePreprocessing image;
        private final DataLimits limits;

        Preprocessing(int resize, int crop, float[] mean, float[] std, DataLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            this.image = ImagePreprocessing.of(3, crop, crop, resize, mean, std);
        }

        int sampleSize() {
            return 3 * image.width() * image.height();
        }

        /** Writes the preprocessed image into {@code out[offset .. offset + sampleSize())}. */
        void apply(Path file, float[] out, int offset) throws DataFormatException {
            image.applyInto(decode(file, limits), out, offset);
        }
    }

    /**
     * Decodes the first image of {@code file} as {@link ImageIO#read} would, but reads its size
     * from the header first and refuses it, undecoded, when it declares more pixels than
     * {@code limits} allow or than the heap can decode.
     */
    static BufferedImage decode(Path file, DataLimits limits) throws DataFormatException {
        return decode(file.toFile(), file, limits);
    }

    /**
     * {@link #decode(Path, DataLimits)} of an image from {@code source} (an {@link ImageInputStream},
     * or anything {@link ImageIO#createImageInputStream} takes), named {@code name} in messages.
     */
    static BufferedImage decode(Object source, Path name, DataLimits limits) throws DataFormatException {
        Path file = name;
        try (ImageInputStream in = source instanceof ImageInputStream given ? given : ImageIO.createImageInputStream(source)) {
            if (in == null) {
                throw new DataFormatException(file, "unreadable image: the file cannot be opened");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new DataFormatException(file, "unreadable image: no ImageIO reader recognises its content"
                        + " (readers: " + String.join(", ", ImageIO.getReaderFormatNames()) + ")");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true); // forward only; metadata is not needed, so not parsed
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                long pixels = (long) w * h;
                if (w < 1 || h < 1) {
                    throw new DataFormatException(file, "unreadable image: its header declares " + w + " x " + h
                            + " pixels");
                }
                if (pixels > limits.maxImagePixels()) {
                    throw new DataFormatException(file, "its " + reader.getFormatName() + " header declares " + w + " x "
                            + h + " = " + pixels + " pixels, more than the limit of " + limits.maxImagePixels()
                            + " (DataLimits.maxImagePixels, -D" + DataLimits.MAX_IMAGE_PIXELS_PROPERTY
                            + "); refused before decoding, as a likely decompression bomb");
                }
                // Allocated in turn, counted as if held at once: the decoded image, its RGB copy, and the
                // first halving (a quarter of the RGB copy).
                long perPixel = decodedBytesPerPixel(reader) + 4 + 1;
                DataLimits.requireHeap(file, -1, DataLimits.saturatingMultiply(pixels, perPixel),
                        "decoding its " + w + " x " + h + " pixels");
                return reader.read(0, reader.getDefaultReadParam());
            } finally {
                reader.dispose();
            }
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) { // decoders throw both on corrupt data
            throw new DataFormatException(file, -1, "unreadable image: " + e, e);
        }
    }

    /** Bytes per pixel of the image {@code reader} decodes by default (its first image type). */
    private static long decodedBytesPerPixel(ImageReader reader) throws IOException {
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        if (!types.hasNext()) {
            return 8; // no type known: assume the widest common one, 16-bit RGBA
        }
        SampleModel sm = types.next().getSampleModel();
        long elementBytes = Math.ceilDiv(DataBuffer.getDataTypeSize(sm.getDataType()), 8);
        return switch (sm) {
            case ComponentSampleModel c -> Math.max(c.getPixelStride(), c.getNumBands()) * elementBytes;
            case MultiPixelPackedSampleModel m -> Math.ceilDiv(m.getPixelBitStride(), 8);
            default -> elementBytes; // one packed element per pixel
        };
    }

    /**
     * The image as packed 8-bit RGB. Gray, RGB and RGBA images in sRGB are read from their
     * samples (scaled to 8 bits), so the values are the file's: going through
     * {@link BufferedImage#getRGB} would convert linear gray to sRGB and brighten gray images.
     * Everything else (palettes, other colour spaces) goes through {@code getRGB}.
     */
    static BufferedImage toRgb(BufferedImage src) {
        if (src.getType() == BufferedImage.TYPE_INT_RGB) {
            return src;
        }
        int w = src.getWidth();
        int h = src.getHeight();
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] out = ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
        ColorModel cm = src.getColorModel();
        Raster raster = src.getRaster();
        int bands = raster.getNumBands();
        int transfer = raster.getTransferType();
        boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && bands <= 2;
        boolean rgb = cm.getColorSpace().isCS_sRGB() && bands >= 3;
        if (!(cm instanceof IndexColorModel) && !cm.isAlphaPremultiplied() && (gray || rgb)
                && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT)) {
            int[] bits = cm.getComponentSize();
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int s = x * bands;
                    int r = to8(row[s], bits[0]);
                    out[y * w + x] = gray ? r << 16 | r << 8 | r
                            : r << 16 | to8(row[s + 1], bits[1]) << 8 | to8(row[s + 2], bits[2]);
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                src.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    out[y * w + x] = row[x] & 0xffffff;
                }
            }
        }
        return dst;
    }

    private static int to8(int sample, int bits) {
        return bits == 8 ? sample : (int) Math.round(sample * 255.0 / ((1 << bits) - 1));
    }

    /**
     * Scales an RGB image so its shorter side is {@code resize} and returns the centre
     * {@code crop x crop} of the result. Shrinking by more than 2 halves the image first (each
     * halving averages 2 x 2 blocks); the last step renders only the crop window, so an extreme
     * aspect ratio never allocates the whole scaled image.
     */
    static BufferedImage scaleAndCrop(BufferedImage image, int resize, int crop) {
        return scaleAndCrop(image, resize, crop, crop);
    }

    /** {@link #scaleAndCrop(BufferedImage, int, int)} to a centre {@code cropW x cropH} (both at most {@code resize}). */
    static BufferedImage scaleAndCrop(BufferedImage image, int resize, int cropW, int cropH) {
        int w = image.getWidth();
        int h = image.getHeight();
        long tw = w <= h ? resize : (long) w * resize / h;
        long th = w <= h ? (long) h * resize / w : resize;
        while (w / 2 >= tw && h / 2 >= th) {
            w /= 2;
            h /= 2;
            image = draw(image, w, h, AffineTransform.getScaleInstance((double) w / image.getWidth(),
                    (double) h / image.getHeight()));
        }
        AffineTransform t = AffineTransform.getTranslateInstance(-((tw - cropW) / 2), -((th - cropH) / 2));
        t.scale((double) tw / w, (double) th / h);
        return draw(image, cropW, cropH, t);
    }

    /** Renders {@code image} through {@code transform} into a new w x h RGB image, bilinear. */
    private static BufferedImage draw(BufferedImage image, int w, int h, AffineTransform transform) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(image, transform, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** The samples: inputs (N, 3, crop, crop), one-hot targets, labels. Closed by {@link #close()}. */
    public Dataset dataset() {
        return dataset;
    }

    /** The class names (sub-folder names), sorted; a label is an index into this list. */
    public List<String> classes() {
        return classes;
    }

    /** The image files, in sample order (sample {@code i} came from {@code files().get(i)}). */
    public List<Path> files() {
        return files;
    }

    /**
     * The image files left out because ImageIO could not decode them or the limits refused them
     * (empty unless skipping was asked).
     */
    public List<Path> skipped() {
        return skipped;
    }

    /** How many images were left out: {@code skipped().size()}. */
    public int skippedCount() {
        return skipped.size();
    }

    /** Frees the dataset's memory. */
    @Override
    public void close() {
        dataset.close();
    }
}
