package dev.deepnet.fuzz;

import java.lang.reflect.InvocationTargetException;
import java.util.List;

/** The formats under fuzzing, by name. A new format is one class and one entry here. */
public final class FuzzFormats {
    private FuzzFormats() {}

    /** Every format the suite and {@code scripts/fuzz} cover, in the order they run. */
    public static final List<String> NAMES = List.of("safetensors", "model", "idx", "image", "onnx");

    /**
     * The format named {@code name}, or, for the harness's own tests, a {@link FuzzFormat} class
     * given by its binary name.
     */
    public static FuzzFormat create(String name) {
        return switch (name) {
            case "safetensors" -> new SafeTensorsFuzzFormat();
            case "model" -> new ModelFileFuzzFormat();
            case "idx" -> new IdxFuzzFormat();
            case "image" -> new ImageFuzzFormat();
            case "onnx" -> new OnnxFuzzFormat();
            default -> byClassName(name);
        };
    }

    private static FuzzFormat byClassName(String name) {
        try {
            return Class.forName(name).asSubclass(FuzzFormat.class).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("unknown format '" + name + "'; the formats are " + String.join(", ", NAMES), e);
        } catch (ReflectiveOperationException | ClassCastException e) {
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException("cannot create format " + name + ": " + cause, cause);
        }
    }
}
