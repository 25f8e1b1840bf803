package dev.deepnet.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST as Debian's {@code dataset-fashion-mnist} package installs it: 60,000 training
 * and 10,000 test images of 28x28 grey pixels in [0, 1], ten classes. One place for where the
 * files are, what the classes are called and what to do when they are missing.
 */
public final class FashionMnist {

    /** Where the Debian package puts the four IDX files. */
    public static final Path DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    /** The class names, by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    private FashionMnist() {}

    /** Whether the package's files are there. */
    public static boolean installed() {
        return Files.isRegularFile(DIRECTORY.resolve("train-images-idx3-ubyte.gz"))
                && Files.isRegularFile(DIRECTORY.resolve("t10k-images-idx3-ubyte.gz"));
    }

    /** What to tell a user when {@link #installed()} is false. */
    public static String notInstalledMessage() {
        return "Fashion-MNIST is not installed in " + DIRECTORY + "; install it with: apt-get install -y dataset-fashion-mnist";
    }

    /** The 60,000 training images. */
    public static Dataset train() throws IOException {
        return load("train");
    }

    /** The 10,000 test images. */
    public static Dataset test() throws IOException {
        return load("t10k");
    }

    private static Dataset load(String prefix) throws IOException {
        Path images = DIRECTORY.resolve(prefix + "-images-idx3-ubyte.gz");
        if (!Files.isRegularFile(images)) {
            throw new NoSuchFileException(images.toString(), null, notInstalledMessage());
        }
        return IdxFile.loadImages(images, DIRECTORY.resolve(prefix + "-labels-idx1-ubyte.gz"), CLASSES.size());
    }
}
