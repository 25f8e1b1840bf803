package dev.deepnet.onnx;

/**
 * What is wrong with an ONNX model, found while it is checked; {@link OnnxFile} adds the file's
 * name and turns it into an {@link OnnxException}.
 */
final class InvalidOnnx extends Exception {
    InvalidOnnx(String message) {
        super(message);
    }

    InvalidOnnx(String message, Throwable cause) {
        super(message, cause);
    }
}
