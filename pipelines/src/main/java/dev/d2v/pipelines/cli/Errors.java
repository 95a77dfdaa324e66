package dev.d2v.pipelines.cli;

/** How the command line words an exception for the user. */
public final class Errors {
    private Errors() {
    }

    /** The first message along the cause chain, else the exception's class name. */
    public static String message(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
