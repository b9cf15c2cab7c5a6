package io.conditio.cli;

import java.util.concurrent.CountDownLatch;

/**
 * SIGTERM and SIGINT as a request to stop, handled before the JVM starts shutting down.
 *
 * <p>A JVM shutdown hook is too late for a graceful stop: ONNX Runtime's Java binding registers a hook of its own that
 * releases the native environment, and the JVM runs all hooks at once, so a generation still running in the grace
 * period would meet a released runtime (its next kernel that logs fails with "Attempt to use DefaultLogger but none
 * has been registered"). Handling the signals lets the server finish or cancel its work first; the command then
 * returns and the JVM exits as usual. Where the JVM does not offer {@code sun.misc.Signal}, nothing is installed and
 * the caller's shutdown hook remains the only path.
 */
final class StopSignals {
    private final CountDownLatch requested = new CountDownLatch(1);
    private volatile String signal;

    private StopSignals() {
    }

    /**
     * Installs the handlers.
     *
     * @return the stop request they count down
     */
    static StopSignals install() {
        StopSignals s = new StopSignals();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    s.signal = "SIG" + sig.getName();
                    s.requested.countDown();
                });
            } catch (IllegalArgumentException | LinkageError e) {
                // the signal is reserved (a JVM started with -Xrs) or the API is missing: the shutdown hook stops us
            }
        }
        return s;
    }

    /**
     * Waits for a signal.
     *
     * @throws InterruptedException when interrupted first
     */
    void await() throws InterruptedException {
        requested.await();
    }

    /** @return the signal that came, as SIGTERM or SIGINT, or null before one came */
    String signal() {
        return signal;
    }
}
