package dev.deepnet.lab.cli;

import dev.deepnet.ops.Backend;
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

    /** The exit code of a user's mistake (picocli's for a usage error); 1 is a failed run or a bug. */
    static final int USAGE_ERROR = CommandLine.ExitCode.USAGE;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line as {@link #main} runs it. Every mistake of the user's becomes one line on
     * standard error, {@code deepnet <command>: <reason>}, and exit code {@value #USAGE_ERROR}: an
     * argument picocli cannot parse, a {@link UsageException} from a command, a backend setting
     * that cannot be honoured. Any other exception is a bug: its stack trace is printed, exit code 1.
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DeepnetCommand());
        cli.setParameterExceptionHandler(DeepnetCommand::unparsable);
        cli.setExecutionExceptionHandler(DeepnetCommand::failed);
        return cli;
    }

    private static int unparsable(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        String message = e.getMessage().endsWith(".") ? e.getMessage().substring(0, e.getMessage().length() - 1) : e.getMessage();
        if (e instanceof CommandLine.UnmatchedArgumentException u) {
            String first = u.getUnmatched().isEmpty() ? "" : u.getUnmatched().getFirst();
            if (!command.getSubcommands().isEmpty() && !first.startsWith("-")) {
                message = "no command '" + first + "'";
            }
            if (!u.getSuggestions().isEmpty()) {
                message += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
            }
        }
        command.getErr().println(name + ": " + message + "; see " + name + " --help");
        return USAGE_ERROR;
    }

    private static int failed(Exception e, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
        String mistake = mistake(e);
        if (mistake == null) {
            throw e; // a bug: picocli prints the stack trace and exits with 1
        }
        command.getOut().flush();
        command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + mistake);
        return USAGE_ERROR;
    }

    /**
     * The message of the user's mistake that {@code e} is or wraps (work run on other threads
     * arrives wrapped), or null when it is none.
     */
    static String mistake(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UsageException || t instanceof Backend.SelectionException) {
                return t.getMessage();
            }
        }
        return null;
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
