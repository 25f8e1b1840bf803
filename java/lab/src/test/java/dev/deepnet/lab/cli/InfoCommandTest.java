package dev.deepnet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {

    @Test
    void printsVersionsIsaAndAPassingSelfCheck() {
        StringWriter out = new StringWriter();
        CommandLine cli = DeepnetCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        int exit = cli.execute("info");
        String text = out.toString();
        assertEquals(0, exit, text);
        assertTrue(text.contains("oneDNN      3.8.1"), text);
        assertTrue(text.matches("(?s).*CPU ISA     [A-Z0-9_]+ .*"), text);
        assertTrue(text.matches("(?s).*OpenMP      \\d+ threads per call .*(GOMP_SPINCOUNT|OMP_WAIT_POLICY|libgomp).*"), text);
        assertTrue(text.matches("(?s).*self-check  matmul f32 256x256x256 on \\S+: .*: ok\\R.*"), text);
    }
}
