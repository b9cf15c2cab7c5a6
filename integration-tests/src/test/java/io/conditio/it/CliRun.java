package io.conditio.it;

import io.conditio.cli.ConditioCli;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * One run of the {@code conditio} command in this JVM, through the CLI's own command code, as a script would run it.
 *
 * @param code the exit code
 * @param out  what it printed on standard output
 * @param err  what it printed on standard error
 */
record CliRun(int code, String out, String err) {

    /**
     * @param args the command line after {@code conditio}
     * @return the exit code and both streams
     */
    static CliRun conditio(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConditioCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
