package dev.deepnet.lab.cli;

import dev.deepnet.lab.experiments.Experiment;
import dev.deepnet.lab.experiments.Experiments;
import dev.deepnet.lab.experiments.LabReport;
import dev.deepnet.ops.Backend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code deepnet lab all|<experiment>...}: the lecture's experiments, figures and an HTML report in out/lab. */
@Command(name = "lab", mixinStandardHelpOptions = true,
        description = "Run the lecture's experiments (all, or by name) and write out/lab/index.html.")
public final class LabCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", completionCandidates = ExperimentNames.class,
            description = "experiments to run, or all (default); known: ${COMPLETION-CANDIDATES}")
    List<String> names = new ArrayList<>();

    @Option(names = "--out", defaultValue = "out/lab", description = "where figures and the report go (default: ${DEFAULT-VALUE})")
    Path out;

    /** The known experiments' names, for the help text: listed once, in {@link Experiments#all()}. */
    static final class ExperimentNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Experiments.all().stream().map(Experiment::name).iterator();
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        List<Experiment> chosen = new ArrayList<>();
        if (names.isEmpty() || names.contains("all")) {
            chosen.addAll(Experiments.all());
        } else {
            for (String n : names) {
                chosen.add(Experiments.all().stream().filter(e -> e.name().equals(n)).findFirst()
                        .orElseThrow(() -> new UsageException("unknown experiment '" + n + "'; known: "
                                + String.join(", ", Experiments.all().stream().map(Experiment::name).toList()))));
            }
        }
        Options.outputFolder("--out", out);
        Backend.selected(); // a backend setting that cannot be honoured fails now, not after the experiments that need no backend
        List<Experiment.Result> results = new ArrayList<>();
        boolean allHeld = true;
        for (Experiment e : chosen) {
            long t0 = System.nanoTime();
            Experiment.Result r = e.run(out);
            results.add(r);
            allHeld &= r.claimHeld();
            o.printf(Locale.ROOT, "%-16s %-4s %5.1f s  %s%n", r.name(), r.claimHeld() ? "held" : "NOT", (System.nanoTime() - t0) / 1e9,
                    r.measured());
            o.flush();
        }
        Path report = LabReport.write(out, results, "deepnet " + DeepnetCommand.version() + ", JDK " + System.getProperty("java.version")
                + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        o.println("report: " + report);
        return allHeld ? 0 : 1;
    }
}
