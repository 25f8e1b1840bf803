package dev.deepnet.onnx;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An ONNX file that is malformed, or that asks for what deepnet does not do. The message starts
 * with the file; for a node it names the node, its op type and the opset, e.g.
 * {@code m.onnx: node 'conv2' (Conv, opset 17): attribute group = 2 is not supported (grouped convolution)}.
 * Thrown before anything is allocated for the model, so a rejected file costs no native memory.
 */
public final class OnnxException extends IOException {

    private final Path file;

    public OnnxException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public OnnxException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }
}
