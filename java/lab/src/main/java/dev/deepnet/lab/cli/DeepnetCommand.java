package dev.deepnet.lab.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code deepnet}: the command line. Each job is a subcommand. */
@Command(name = "deepnet",
        mixinStandardHelpOptions = true,
        versionProvider = DeepnetCommand.Version.class,
        description = "Deep neural nets on CPUs from Java, at native speed (oneDNN through FFM).",
        subcommands = {InfoCommand.class, LabCommand.class, TrainCommand.class, PredictCommand.class, AdversarialCommand.class,
                FoolCommand.class, OccludeCommand.class, BenchCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class DeepnetCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new DeepnetCommand()).execute(args));
    }

    /** deepnet's version: the jar manifest's, or "development build" when run from classes. */
    static String version() {
        String v = DeepnetCommand.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"deepnet " + version()};
        }
    }
}
