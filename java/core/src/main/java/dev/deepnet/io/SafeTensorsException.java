package dev.deepnet.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that is malformed, or does not hold what the caller asked for (a missing
 * tensor, another shape, a dtype deepnet cannot load). The message starts with the file and says
 * where (byte offset or tensor name) and what is wrong, e.g. {@code model.safetensors: tensor
 * 'fc.weight': data_offsets [0, 40] hold 40 bytes but shape (3, 4) of F32 needs 48}.
 */
public final class SafeTensorsException extends IOException {

    private final Path file;

    public SafeTensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafeTensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }
}
