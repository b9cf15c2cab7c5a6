package io.conditio.cli;

import io.conditio.api.AfterStepCallback;
import io.conditio.api.BeforeStepCallback;
import io.conditio.api.StepContext;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of one generation on stderr: on a terminal a bar redrawn in place with steps/s and the time left;
 * otherwise (a pipe, a log file) a plain line at every tenth of the steps, so logs stay short.
 */
final class ProgressReporter implements BeforeStepCallback, AfterStepCallback {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier clock;
    private long start = -1;
    private int lastLine;

    /**
     * @param err      where to write
     * @param terminal true to redraw a bar in place, false for plain lines
     * @param clock    nanoseconds (System::nanoTime; a fake in tests)
     */
    ProgressReporter(PrintWriter err, boolean terminal, LongSupplier clock) {
        this.err = err;
        this.terminal = terminal;
        this.clock = clock;
    }

    /**
     * @return true when stderr is an interactive terminal and TERM is not "dumb". The launcher tells
     *     ({@code -Dconditio.stderr.terminal}, from {@code [ -t 2 ]}): the JVM's own {@link System#console()} looks
     *     at stdin and stdout only, so {@code 2>log} on a terminal would otherwise fill the log with redrawn bars.
     */
    static boolean stderrIsTerminal() {
        return stderrIsTerminal(System.getProperty("conditio.stderr.terminal"), System.getenv("TERM"),
                System.console() != null);
    }

    static boolean stderrIsTerminal(String launcherSays, String term, boolean console) {
        if (term == null || term.isBlank() || term.equals("dumb")) {
            return false;
        }
        return launcherSays == null || launcherSays.isBlank() ? console : Boolean.parseBoolean(launcherSays.strip());
    }

    /** The clock starts when the first step does, so model loading and preparation are not counted as steps. */
    @Override
    public void beforeStep(StepContext step) {
        if (start < 0) {
            start = clock.getAsLong();
        }
    }

    @Override
    public void afterStep(StepContext step) {
        long now = clock.getAsLong();
        if (start < 0) {
            start = now;
        }
        // the bar, the rate and the ETA follow the model calls; the label says the scheduler step, and the call
        // too when a step makes several (Heun, KDPM2, PNDM's warm-up)
        int done = step.stepIndex() + 1;
        int total = step.totalSteps();
        int steps = step.schedulerSteps();
        int current = done == total ? steps : Math.min(steps, step.schedulerStep() + 1);
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = done / seconds;
        double eta = (total - done) / rate;
        double stepRate = rate * steps / total;
        String calls = steps == total ? "" : String.format(Locale.ROOT, " (call %d/%d)", done, total);
        if (terminal) {
            int filled = (int) Math.round(WIDTH * (double) done / total);
            err.printf(Locale.ROOT, "\r[%s%s] %d/%d%s  %.2f steps/s  ETA %s ", "#".repeat(filled),
                    ".".repeat(WIDTH - filled), current, steps, calls, stepRate, duration(eta));
            if (done == total) {
                err.println();
            }
            err.flush();
            return;
        }
        int tenth = (int) ((long) done * 10 / total);
        if (tenth != lastLine) {
            lastLine = tenth;
            err.printf(Locale.ROOT, "step %d/%d%s  %.2f steps/s  ETA %s%n", current, steps, calls, stepRate,
                    duration(eta));
            err.flush();
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + "s" : (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
    }
}
