package dev.d2v.pipelines.cli;

/** How the command line words an exception for the user. */
public final class Errors {
    private Errors() {
    }

    /**
     * The first message along the cause chain (else the exception's class name), and the root cause's class and
     * message when they say something more: a Flink job's failure is "Job execution failed." around "Recovery is
     * suppressed by ..." around what actually went wrong, and only the last names the fault.
     */
    public static String message(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        String first = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root == t || (root.getMessage() != null && first.contains(root.getMessage()))) {
            return first;
        }
        return first + " (root cause: " + root.getClass().getName()
                + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
    }
}
