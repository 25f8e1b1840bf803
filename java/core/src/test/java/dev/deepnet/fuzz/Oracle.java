package dev.deepnet.fuzz;

import java.io.IOException;
import java.util.Set;

/**
 * What counts as correct for a loader given any bytes: it returns, or it throws the exception it
 * documents for malformed files with a message that says something. Everything else is a finding:
 * an error (OutOfMemoryError, StackOverflowError), also when wrapped in another exception, another
 * exception type, an empty message; and, decided by the child JVM's watchdog and the parent, a hang
 * or a crash.
 */
final class Oracle {
    private Oracle() {}

    enum Verdict { SUCCESS, REJECTED, FINDING }

    /**
     * The verdict, a short kind for findings ("OutOfMemoryError", "untyped NullPointerException",
     * "empty message"), and for typed rejections that wrap a JDK programming error (an index out of
     * bounds, a number format) its class: informational, such messages are the JDK's, not the loader's.
     * {@code error} is what to report: the thrown exception, or for such a rejection the wrapped one.
     */
    record Outcome(Verdict verdict, String kind, Throwable error) {}

    /** Exceptions that say the loader ran into its own bug, even when it wraps them in its typed exception. */
    private static final Set<Class<? extends RuntimeException>> PROGRAMMING_ERRORS = Set.of(NullPointerException.class,
            IndexOutOfBoundsException.class, ArrayIndexOutOfBoundsException.class, StringIndexOutOfBoundsException.class,
            ClassCastException.class, NumberFormatException.class, ArithmeticException.class,
            NegativeArraySizeException.class, UnsupportedOperationException.class);

    /** Judges what the loader did: {@code thrown} is null when it returned. */
    static Outcome judge(Throwable thrown, Class<? extends IOException> documented) {
        if (thrown == null) {
            return new Outcome(Verdict.SUCCESS, "", null);
        }
        if (thrown instanceof Error) {
            return new Outcome(Verdict.FINDING, thrown.getClass().getSimpleName(), thrown);
        }
        // An Error caught and wrapped (ImageIO's readers wrap an OutOfMemoryError in an IIOException)
        // is still the Error: the loader tried to allocate what the file does not hold.
        for (Throwable c = thrown.getCause(); c != null; c = c.getCause()) {
            if (c instanceof Error) {
                return new Outcome(Verdict.FINDING, c.getClass().getSimpleName() + " wrapped in " + thrown.getClass().getSimpleName(), c);
            }
        }
        if (!documented.isInstance(thrown)) {
            return new Outcome(Verdict.FINDING, "untyped " + thrown.getClass().getSimpleName(), thrown);
        }
        String message = thrown.getMessage();
        if (message == null || message.isBlank()) {
            return new Outcome(Verdict.FINDING, "empty message", thrown);
        }
        for (Throwable c = thrown.getCause(); c != null; c = c.getCause()) {
            if (PROGRAMMING_ERRORS.contains(c.getClass())) {
                return new Outcome(Verdict.REJECTED, c.getClass().getSimpleName(), c);
            }
        }
        return new Outcome(Verdict.REJECTED, "", thrown);
    }

    /** One line for the protocol and the report: the exception, its message (abbreviated), and {@link #where}. */
    static String summary(Throwable t) {
        String message = String.valueOf(t.getMessage()).replaceAll("\\s+", " ");
        if (message.length() > 200) {
            message = message.substring(0, 197) + "...";
        }
        return t.getClass().getName() + ": " + message + " at " + where(t);
    }

    /**
     * Where a problem is, for grouping findings: the top frame, and when that is not in deepnet's
     * code, the first frame that is (outside this harness): {@code Arrays.copyOf:3541 via IdxFile$Reader.read:238}.
     */
    static String where(Throwable t) {
        StackTraceElement[] stack = t.getStackTrace();
        if (stack.length == 0) {
            return "?";
        }
        String top = frame(stack[0]);
        for (StackTraceElement e : stack) {
            if (e.getClassName().startsWith("dev.deepnet.") && !e.getClassName().startsWith("dev.deepnet.fuzz.")) {
                return e == stack[0] ? top : top + " via " + frame(e);
            }
        }
        return top;
    }

    static String frame(StackTraceElement e) {
        String cls = e.getClassName();
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + e.getMethodName() + ":" + e.getLineNumber();
    }
}
