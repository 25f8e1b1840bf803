package dev.deepnet.bench.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerSummaryTest {

    @Test
    void linesParseIntoFieldsAndReasonsAndMetaRunToTheEnd() {
        Map<String, String> r = PeerSummary.fields("RESULT round=2 slot=3 peer=c workload=relu-10 median_us=0.5");
        assertEquals("RESULT", r.get("kind"));
        assertEquals("2", r.get("round"));
        assertEquals("0.5", r.get("median_us"));
        Map<String, String> f = PeerSummary.fields("FAILED round=1 workload=w peer=p reason=exit 1: no such file = x");
        assertEquals("exit 1: no such file = x", f.get("reason"));
        Map<String, String> m = PeerSummary.fields("META machine=2 cores, AMD EPYC");
        assertEquals("2 cores, AMD EPYC", m.get("machine"));
    }

    @Test
    void theLenetFigureIsTheMeanMinibatchScaledToTheEpoch() {
        Map<String, String> r = PeerSummary.fields("RESULT workload=lenet-epoch mean_us=100 median_us=1 images=60000 batch=64");
        assertEquals(100 * 60000.0 / 64, PeerSummary.figure(r), 1e-9);
        assertEquals(1, PeerSummary.figure(PeerSummary.fields("RESULT workload=relu-10 median_us=1 mean_us=5")), 0);
    }

    @Test
    void medianOverRoundsAndRatioToTheBaseline(@TempDir Path dir) throws Exception {
        Path raw = dir.resolve("raw.txt");
        Files.write(raw, List.of(
                "META note=test",
                "RESULT round=1 slot=1 peer=ffm workload=matmul-1024 median_us=10000 create_us=5",
                "RESULT round=1 slot=2 peer=c workload=matmul-1024 median_us=8000 create_us=1",
                "RESULT round=2 slot=1 peer=c workload=matmul-1024 median_us=9000",
                "RESULT round=2 slot=2 peer=ffm workload=matmul-1024 median_us=12000",
                "RESULT round=3 slot=1 peer=ffm workload=matmul-1024 median_us=11000",
                "FAILED round=3 slot=2 workload=matmul-1024 peer=c reason=timed out"));
        PeerSummary.main(new String[] {raw.toString(), dir.toString()});
        String md = Files.readString(dir.resolve("summary.md"));
        // ffm: median of 10, 12, 11 ms = 11 ms; c: median of 8, 9 = 8.5 ms; ratio 8.5 / 11
        assertTrue(md.contains("| 11.00 ms |"), md);
        assertTrue(md.contains("| 8.500 ms |"), md);
        assertTrue(md.contains(PeerSummary.fmt(8.5 / 11)), md);
        assertTrue(md.contains("(+1 failed)"), md);
        assertTrue(md.contains("timed out"), md);
        List<String> csv = Files.readAllLines(dir.resolve("runs.csv"));
        assertEquals(7, csv.size()); // header, five results, one failure
        assertTrue(csv.get(0).startsWith("round,slot,workload,peer,status,figure_us"), csv.get(0));
    }
}
