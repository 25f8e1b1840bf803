package dev.deepnet.dnnl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ArgTest {

    @Test
    void theSingleIdsArePrimitivesArgumentsAndOnlyThose() {
        int[] ids = Arg.singleIds();
        for (int id : new int[] {Arg.SRC, Arg.SRC_1, Arg.DST, Arg.WEIGHTS, Arg.BIAS, Arg.WORKSPACE, Arg.SCRATCHPAD, Arg.FROM, Arg.TO,
                Arg.DIFF_SRC, Arg.DIFF_SRC_1, Arg.DIFF_DST, Arg.DIFF_WEIGHTS, Arg.DIFF_BIAS}) {
            assertTrue(Arrays.binarySearch(ids, id) >= 0, Arg.name(id) + " (" + id + ") is missing from " + Arrays.toString(ids));
        }
        for (int i = 0; i < ids.length; i++) {
            assertTrue(ids[i] > 0 && ids[i] < Arg.MULTIPLE_SRC, "id " + ids[i]);
            assertTrue(i == 0 || ids[i - 1] < ids[i], "ascending, each once");
            assertTrue(!Arg.name(ids[i]).startsWith("argument "), "named: " + ids[i]);
        }
        assertTrue(ids.length < 100, ids.length + " ids: a handful of queries per primitive, not a thousand");
    }
}
