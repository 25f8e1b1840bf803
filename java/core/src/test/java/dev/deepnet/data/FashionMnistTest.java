package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deepnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The Debian-installed Fashion-MNIST (scripts/test installs the package) loads as 60,000 + 10,000 labelled 28x28 images. */
class FashionMnistTest {

    @Test
    void theInstalledFilesLoadAsTrainingAndTestSets() throws Exception {
        assertTrue(FashionMnist.installed(), FashionMnist.notInstalledMessage());
        try (Dataset test = FashionMnist.test()) {
            assertEquals(10_000, test.size());
            assertEquals(Shape.of(1, 28, 28), test.inputs().shape().sample());
            int[] perClass = new int[FashionMnist.CLASSES.size()];
            for (int label : test.labels()) {
                perClass[label]++;
            }
            for (int c = 0; c < perClass.length; c++) {
                assertEquals(1_000, perClass[c], FashionMnist.CLASSES.get(c)); // the test set is balanced
            }
        }
        try (Dataset train = FashionMnist.train()) {
            assertEquals(60_000, train.size());
        }
    }

    @Test
    void theMessageForAMissingInstallNamesThePackage() {
        assertTrue(FashionMnist.notInstalledMessage().contains("apt-get install -y dataset-fashion-mnist"));
        assertTrue(FashionMnist.notInstalledMessage().contains(FashionMnist.DIRECTORY.toString()));
    }
}
