package dev.deepnet.dnnl;

/**
 * A oneDNN C function returned a status other than success. The message names the function,
 * the status and what was asked, and suggests {@code ONEDNN_VERBOSE=all}, which makes oneDNN
 * print its own account of why it refused.
 */
public abstract sealed class DnnlException extends RuntimeException
        permits DnnlException.OutOfMemory, DnnlException.InvalidArguments, DnnlException.Unimplemented,
                DnnlException.Failed {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final transient Status status;
    private final int code;

    private DnnlException(String function, int code, String detail) {
        super(function + " failed: " + Status.of(code).cName() + (Status.of(code) == Status.UNKNOWN ? " (" + code + ")" : "")
                + (detail == null || detail.isEmpty() ? "" : " [" + detail + "]")
                + "; run with the environment variable ONEDNN_VERBOSE=all to see oneDNN's reason");
        this.function = function;
        this.status = Status.of(code);
        this.code = code;
    }

    /** The C function that failed, e.g. {@code dnnl_memory_desc_create_with_tag}. */
    public String function() {
        return function;
    }

    /** The status it returned. */
    public Status status() {
        return status;
    }

    /** The raw status value. */
    public int statusCode() {
        return code;
    }

    /** {@code dnnl_out_of_memory}. */
    public static final class OutOfMemory extends DnnlException {
        private static final long serialVersionUID = 1L;

        OutOfMemory(String function, int code, String detail) {
            super(function, code, detail);
        }
    }

    /** {@code dnnl_invalid_arguments}: oneDNN rejected what it was given. */
    public static final class InvalidArguments extends DnnlException {
        private static final long serialVersionUID = 1L;

        InvalidArguments(String function, int code, String detail) {
            super(function, code, detail);
        }
    }

    /** {@code dnnl_unimplemented}: no implementation for these shapes, types or attributes. */
    public static final class Unimplemented extends DnnlException {
        private static final long serialVersionUID = 1L;

        Unimplemented(String function, int code, String detail) {
            super(function, code, detail);
        }
    }

    /** Any other failure ({@code dnnl_runtime_error}, {@code dnnl_last_impl_reached}, ...). */
    public static final class Failed extends DnnlException {
        private static final long serialVersionUID = 1L;

        Failed(String function, int code, String detail) {
            super(function, code, detail);
        }
    }

    /** Throws the exception for {@code code} unless it is success. */
    static void check(int code, String function) {
        check(code, function, null);
    }

    /** Throws the exception for {@code code}, with {@code detail} naming what was asked, unless it is success. */
    static void check(int code, String function, String detail) {
        if (code == Status.SUCCESS.code()) {
            return;
        }
        throw switch (Status.of(code)) {
            case OUT_OF_MEMORY -> new OutOfMemory(function, code, detail);
            case INVALID_ARGUMENTS -> new InvalidArguments(function, code, detail);
            case UNIMPLEMENTED -> new Unimplemented(function, code, detail);
            default -> new Failed(function, code, detail);
        };
    }
}
