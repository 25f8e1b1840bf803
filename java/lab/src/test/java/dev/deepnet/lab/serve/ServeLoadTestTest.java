package dev.deepnet.lab.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The load test, bounded to a few hundred requests: it runs, counts what it sent, and reports every level. */
class ServeLoadTestTest {

    @Test
    void measuresServeAndInProcessAtEachLevelWithinTheRequestBound() throws Exception {
        for (boolean png : new boolean[] {false, true}) {
            List<ServeLoadTest.Row> rows = ServeLoadTest.run(PredictionServerTest.predictor(), png, List.of(1, 4), 40, 30, 8);
            assertEquals(2, rows.size());
            for (ServeLoadTest.Row r : rows) {
                assertEquals(40, r.serve().requests(), "every request answered 200 within the bound");
                assertEquals(40, r.inProcess().requests());
                assertEquals(40, r.serve().latency().count());
                assertTrue(r.serve().perSecond() > 0 && r.ratio() > 0, r.toString());
            }
            String table = ServeLoadTest.table(rows);
            assertTrue(table.contains("| clients | serve requests/s | serve p50 | serve p99 | in-process calls/s"), table);
            assertTrue(table.lines().filter(l -> l.startsWith("| 1 |") || l.startsWith("| 4 |")).count() == 2, table);
        }
    }

    @Test
    void theCommandRunsLeNetByDefaultAndStopsAtTheTimeBound() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new ServeLoadTest()).setOut(new PrintWriter(out));
        long t0 = System.nanoTime();
        int exit = cli.execute("--clients", "2", "--requests", "1000000", "--seconds", "1", "--warmup", "20", "--threads", "1");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, exit, out.toString());
        assertTrue(out.toString().startsWith("bench-serve: LeNet (10 classes), input (1, 28, 28), 1 workers, json bodies"), out.toString());
        assertTrue(out.toString().contains("\n| 2 | "), out.toString());
        assertTrue(seconds < 60, "two 1-second levels (and the set-up) took " + seconds + " s");
        assertEquals(2, new CommandLine(new ServeLoadTest()).setErr(new PrintWriter(new StringWriter())).execute("--body", "xml"));
    }
}
