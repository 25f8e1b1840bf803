package dev.deepnet.lab.cli;

import dev.deepnet.dnnl.OpenMp;
import dev.deepnet.nativelib.OpenMpEnvironment;
import dev.deepnet.ops.BackendReport;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code deepnet info}: versions, JDK, oneDNN and its ISA, and one primitive executed and checked. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print versions, the JDK, oneDNN's version and instruction set, and run one primitive as a self-check.")
public final class InfoCommand implements Callable<Integer> {

    /** Above this the self-check fails: f32 over a 256-long reduction is far more accurate. */
    static final double MAX_SELF_CHECK_ERROR = 1e-4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        out.printf("deepnet %s%n", DeepnetCommand.version());
        out.printf("  JDK         %s (%s) at %s%n", System.getProperty("java.runtime.version"),
                System.getProperty("java.vendor"), System.getProperty("java.home"));
        out.printf("  OS          %s %s %s, %d cores, max heap %d MiB%n", System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("os.arch"), rt.availableProcessors(),
                rt.maxMemory() >> 20);
        BackendReport report = BackendReport.collect();
        if (!report.available()) {
            out.printf("  oneDNN      not available%n");
            out.flush();
            spec.commandLine().getErr().println(report.failure());
            return 1;
        }
        out.printf("  oneDNN      %s%n", report.onednnVersion());
        out.printf("  library     %s%n", report.library());
        out.printf("  CPU ISA     %s (cap it with ONEDNN_MAX_CPU_ISA)%n", report.cpuIsa());
        out.printf("  OpenMP      %d threads per call unless an Ops instance is given its own; %s%n",
                OpenMp.isAvailable() ? OpenMp.threadsForThisThread() : 1,
                OpenMpEnvironment.applied());
        BackendReport.SelfCheck c = report.selfCheck();
        double flops = 2.0 * Math.pow(256, 3);
        boolean ok = c.maxRelativeError() <= MAX_SELF_CHECK_ERROR;
        out.printf(Locale.ROOT, "  self-check  %s on %s: created in %.2f ms, ran in %.3f ms (%.1f GFLOP/s), "
                        + "max relative error %.1e vs Java: %s%n",
                c.operation(), c.implementation(), c.createMillis(), c.executeMillis(),
                flops / (c.executeMillis() * 1e6), c.maxRelativeError(), ok ? "ok" : "FAILED");
        return ok ? 0 : 1;
    }
}
