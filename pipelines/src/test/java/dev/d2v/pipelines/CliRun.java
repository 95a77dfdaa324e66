package dev.d2v.pipelines;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One `d2v` command line run in-process, with what it printed through picocli (usage, errors) captured. */
public record CliRun(int code, String out, String err) {

    public static CliRun of(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
