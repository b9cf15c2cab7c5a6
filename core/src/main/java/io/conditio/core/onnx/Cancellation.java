package io.conditio.core.onnx;

import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.conditio.api.ConditioException;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationTimeoutException;
import io.conditio.core.HostThreads;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The stop signal of one generation. A generation stops when it is cancelled ({@link #cancel()}, from any thread),
 * when its thread is interrupted, or when it runs past its time limit. The generating thread sees the signal at
 * {@link #check()} (between steps and around the long stages), and every ONNX Runtime call made on that thread while
 * the signal is {@linkplain #enter() entered} runs with its own {@link OrtSession.RunOptions}, whose terminate flag is
 * set the moment the generation is told to stop, so a UNet or VAE call in flight ends too.
 *
 * <p>While a call is in flight a watcher looks every {@value #WATCH_MILLIS} ms for an interrupt of the generating
 * thread and for the deadline, since neither can reach native code on its own. Thread-safe.
 */
public final class Cancellation {
    /** How often a call in flight is looked at for an interrupt or a passed deadline. */
    static final int WATCH_MILLIS = 10;

    private static final ThreadLocal<Cancellation> CURRENT = new ThreadLocal<>();
    private static final ScheduledExecutorService WATCHER = Executors.newSingleThreadScheduledExecutor(
            HostThreads.daemon("conditio-cancellation-watcher", false));

    private enum Reason { CANCELLED, INTERRUPTED, TIMED_OUT }

    private final Duration timeout;
    private final long started;
    private final long deadline;
    private final Set<OrtSession.RunOptions> inFlight = new HashSet<>();
    private volatile Reason reason;
    private volatile String stage = "the start";
    private volatile long stoppedAt;
    private volatile Thread owner;

    private Cancellation(Duration timeout) {
        this.timeout = timeout;
        this.started = System.nanoTime();
        this.deadline = timeout == null ? 0 : started + saturatedNanos(timeout);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return Math.max(1, d.toNanos());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /**
     * @param timeout the time limit, measured from now; empty for none
     * @return a new signal, not stopped
     */
    public static Cancellation start(Optional<Duration> timeout) {
        return new Cancellation(timeout.orElse(null));
    }

    /** @return the signal entered on this thread, if any */
    public static Optional<Cancellation> current() {
        return Optional.ofNullable(CURRENT.get());
    }

    /**
     * Makes this the signal of the calling thread until the scope is closed: {@link #check()} and ONNX Runtime calls
     * on this thread then obey it.
     *
     * @return the scope; closing it restores what was entered before
     */
    public Scope enter() {
        Cancellation previous = CURRENT.get();
        Thread previousOwner = owner;
        owner = Thread.currentThread();
        CURRENT.set(this);
        return () -> {
            owner = previousOwner;
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        };
    }

    /** A thread's use of a signal; see {@link #enter()}. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Tells the generation to stop: it ends at its next check, and an ONNX Runtime call in flight is terminated.
     * Safe from any thread; later calls do nothing.
     */
    public void cancel() {
        stop(Reason.CANCELLED);
    }

    /** @return true once the generation has been told to stop, for whatever reason */
    public boolean stopRequested() {
        return reason != null;
    }

    /**
     * Names where the generation is, for the message it stops with (for example {@code "step 3 of 20"}).
     *
     * @param where a short description of the current stage
     */
    public void stage(String where) {
        stage = where;
    }

    /**
     * Throws when the generation should stop: it was cancelled, its thread is interrupted (the interrupt status is
     * left set), or its time limit has passed.
     *
     * @throws GenerationCancelledException when cancelled or interrupted
     * @throws GenerationTimeoutException when past the time limit
     */
    public void check() {
        poll(Thread.currentThread());
        if (reason != null) {
            throw stopped(null);
        }
    }

    /** Runs {@link #check()} on the signal entered on this thread, if there is one. */
    public static void checkCurrent() {
        Cancellation c = CURRENT.get();
        if (c != null) {
            c.check();
        }
    }

    /**
     * Names the current stage of the signal entered on this thread, if there is one.
     *
     * @param where a short description of the current stage
     */
    public static void stageCurrent(String where) {
        Cancellation c = CURRENT.get();
        if (c != null) {
            c.stage = where;
        }
    }

    private void poll(Thread thread) {
        if (reason != null) {
            return;
        }
        if (thread != null && thread.isInterrupted()) {
            stop(Reason.INTERRUPTED);
        } else if (timeout != null && System.nanoTime() - deadline >= 0) {
            stop(Reason.TIMED_OUT);
        }
    }

    private void stop(Reason why) {
        synchronized (this) {
            if (reason != null) {
                return;
            }
            stoppedAt = System.nanoTime();
            reason = why;
            for (OrtSession.RunOptions options : inFlight) {
                terminate(options);
            }
        }
    }

    private static void terminate(OrtSession.RunOptions options) {
        try {
            options.setTerminate(true);
        } catch (OrtException e) {
            // the call ends at the next check between steps instead
        }
    }

    private ConditioException stopped(Throwable cause) {
        String where = " at " + stage;
        return switch (reason) {
            case CANCELLED -> new GenerationCancelledException("generation cancelled" + where, cause);
            case INTERRUPTED -> new GenerationCancelledException("generation interrupted" + where
                    + " (its thread was interrupted)", cause);
            case TIMED_OUT -> new GenerationTimeoutException("generation ran past its time limit of "
                    + describe(timeout) + where + " (stopped after " + millis(stoppedAt - started) + ")", cause);
        };
    }

    private static String describe(Duration d) {
        return millis(d.toNanos());
    }

    private static String millis(long nanos) {
        return nanos >= 10_000_000_000L ? String.format(Locale.ROOT, "%.1f s", nanos / 1e9)
                : String.format(Locale.ROOT, "%d ms", nanos / 1_000_000);
    }

    /**
     * Runs a session, obeying the signal entered on this thread (if any): the call gets run options whose terminate
     * flag is set when the generation is told to stop.
     *
     * @param session the session
     * @param inputs the inputs
     * @param pinned pre-allocated outputs, or {@code null} for outputs allocated by ONNX Runtime
     * @return the result; close it
     * @throws OrtException when ONNX Runtime fails for another reason than being told to stop
     * @throws GenerationCancelledException when cancelled or interrupted, before or during the call
     * @throws GenerationTimeoutException when past the time limit, before or during the call
     */
    static OrtSession.Result run(OrtSession session, Map<String, ? extends OnnxTensorLike> inputs,
            Map<String, ? extends OnnxValue> pinned) throws OrtException {
        Cancellation c = CURRENT.get();
        if (c == null) {
            return pinned == null ? session.run(inputs) : session.run(inputs, pinned);
        }
        c.check();
        try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
            c.register(options);
            ScheduledFuture<?> watch = WATCHER.scheduleWithFixedDelay(() -> c.poll(c.owner), WATCH_MILLIS,
                    WATCH_MILLIS, TimeUnit.MILLISECONDS);
            try {
                return pinned == null ? session.run(inputs, options)
                        : session.run(inputs, Collections.emptySet(), pinned, options);
            } catch (OrtException e) {
                if (c.reason != null) {
                    throw c.stopped(e);
                }
                throw e;
            } finally {
                watch.cancel(false);
                c.unregister(options);
            }
        }
    }

    private synchronized void register(OrtSession.RunOptions options) {
        inFlight.add(options);
        if (reason != null) {
            terminate(options);
        }
    }

    private synchronized void unregister(OrtSession.RunOptions options) {
        inFlight.remove(options);
    }

    /** @return how many ONNX Runtime calls of this generation are in flight now */
    public synchronized int callsInFlight() {
        return inFlight.size();
    }
}
