package dev.deepnet.lab.cli;

/**
 * A mistake of the user's: an option out of range, a file that is missing or not what it should
 * be, a folder that cannot be made. The command line prints it as one line, {@code deepnet
 * <command>: <message>}, and exits with {@link DeepnetCommand#USAGE_ERROR}; the message names the
 * option or file and what would be right. Anything else that escapes a command is a bug and keeps
 * its stack trace.
 */
final class UsageException extends RuntimeException {

    UsageException(String message) {
        super(message);
    }

    UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
