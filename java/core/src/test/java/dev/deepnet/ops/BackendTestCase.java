package dev.deepnet.ops;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the op tests: holds both backends, so every test runs each op on the reference and on
 * oneDNN and compares them (Lucene's BaseVectorizationTestCase, for us).
 */
abstract class BackendTestCase {

    static Ops reference;
    static Ops onednn;

    @BeforeAll
    static void openBackends() {
        reference = new ReferenceOps();
        onednn = new OneDnnOps(0, 0); // every call on oneDNN, however small: these tests are of its numerics
    }

    @AfterAll
    static void closeBackends() {
        reference.close();
        onednn.close();
    }

    /** The reference first: its own gradient check runs before it serves as the oracle for oneDNN. */
    static List<Ops> backends() {
        return List.of(reference, onednn);
    }
}
