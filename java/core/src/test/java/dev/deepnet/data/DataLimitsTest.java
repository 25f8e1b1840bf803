package dev.deepnet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The limits' defaults, their system properties, and the values they refuse. */
class DataLimitsTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAdmitPhotosAndTheLargestIdxFiles() {
        DataLimits d = DataLimits.defaults();
        assertEquals(100_000_000L, d.maxImagePixels());
        assertEquals(IdxFile.MAX_DATA_BYTES, d.maxIdxBytes());
        assertEquals(100, d.maxGzipRatio());
        assertEquals(d, DataLimits.fromProperties(name -> null));
    }

    @Test
    void eachPropertyOverridesItsDefaultAlone() {
        Map<String, String> props = Map.of("deepnet.data.maxImagePixels", " 4096 ", "deepnet.data.maxGzipRatio", "1_000");
        DataLimits l = DataLimits.fromProperties(props::get);
        assertEquals(new DataLimits(4096, IdxFile.MAX_DATA_BYTES, 1000), l);
        assertEquals(DataLimits.defaults(), DataLimits.fromProperties(Map.of("deepnet.data.maxIdxBytes", " ")::get));
        assertEquals(new DataLimits(1, 2, 3), DataLimits.defaults().withMaxImagePixels(1).withMaxIdxBytes(2)
                .withMaxGzipRatio(3));
    }

    @Test
    void badValuesAreRefusedNamingWhatWasWrong() {
        for (String bad : new String[] {"lots", "0", "-5", "1.5", "99999999999999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DataLimits.fromProperties(Map.of("deepnet.data.maxIdxBytes", bad)::get));
            assertEquals("system property deepnet.data.maxIdxBytes must be a whole number of at least 1, not '" + bad + "'",
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DataLimits(0, 1, 1));
        assertEquals("maxImagePixels must be at least 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataLimits.defaults().withMaxGzipRatio(-1));
    }

    @Test
    void theLoadersReadTheSystemPropertiesAtEveryCall() throws IOException {
        Path file = Files.write(dir.resolve("six.idx"), IdxFileTest.idx(0x08, new int[] {6}, new byte[6]));
        String before = System.getProperty(DataLimits.MAX_IDX_BYTES_PROPERTY);
        try {
            System.setProperty(DataLimits.MAX_IDX_BYTES_PROPERTY, "5");
            DataFormatException e = assertThrows(DataFormatException.class, () -> IdxFile.read(file));
            assertTrue(e.getMessage().contains("more than the limit of 5 bytes"), e.getMessage());
            System.setProperty(DataLimits.MAX_IDX_BYTES_PROPERTY, "6");
            assertEquals(6, IdxFile.read(file).elementCount());
        } finally {
            if (before == null) {
                System.clearProperty(DataLimits.MAX_IDX_BYTES_PROPERTY);
            } else {
                System.setProperty(DataLimits.MAX_IDX_BYTES_PROPERTY, before);
            }
        }
    }

    @Test
    void saturatingMultiplyStopsAtTheLargestLong() {
        assertEquals(6, DataLimits.saturatingMultiply(2, 3));
        assertEquals(Long.MAX_VALUE, DataLimits.saturatingMultiply(1L << 32, 1L << 31));
        assertEquals(Long.MAX_VALUE, DataLimits.saturatingMultiply(Long.MAX_VALUE, 2));
        assertEquals(1L << 62, DataLimits.saturatingMultiply(1L << 31, 1L << 31));
    }
}
