package dev.deepnet.ops;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the op tests: holds both backends, so every test runs each op on the reference and on
 * oneDNN and compares them (Lucene's BaseVectorizationTestCase, for us). Public for the tests of
 * other packages that run layers on every backend (dev.deepnet.onnx).
 */
public abstract class BackendTestCase {

    protected static Ops reference;
    protected static Ops onednn;
    /** oneDNN's ops with every call that has a plain-Java path on it, whatever its size. */
    protected static Ops plainJava;

    @BeforeAll
    public static void openBackends() {
        reference = new ReferenceOps();
        onednn = new OneDnnOps(0, 0); // every call on oneDNN, however small: these tests are of its numerics
        plainJava = new OneDnnOps(0, Long.MAX_VALUE);
    }

    @AfterAll
    public static void closeBackends() {
        reference.close();
        onednn.close();
        plainJava.close();
    }

    /**
     * The reference first: its own gradient check runs before it serves as the oracle for oneDNN
     * and for the plain-Java path oneDNN's ops take for small calls.
     */
    public static List<Ops> backends() {
        return List.of(reference, onednn, plainJava);
    }
}
