package io.conditio.it;

import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Writes the figures the tests publish through {@link org.junit.jupiter.api.TestReporter} (parity errors, scores,
 * latencies) to the build's output, one line each, since Maven Surefire keeps report entries out of its console and
 * XML reports. Registered through {@code META-INF/services}.
 */
public final class ReportEntriesToStdout implements TestExecutionListener {
    @Override
    public void reportingEntryPublished(TestIdentifier test, ReportEntry entry) {
        entry.getKeyValuePairs().forEach((key, value) -> System.out.println(
                key.equals("value") ? value : key + ": " + value));
    }
}
