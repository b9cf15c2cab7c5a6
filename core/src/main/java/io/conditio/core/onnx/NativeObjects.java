package io.conditio.core.onnx;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the native ONNX Runtime objects the core holds open: sessions ({@link OnnxModel}) and the input and
 * pinned-output tensors it creates ({@link OnnxModel#run} and {@link Binding}). Tests and soak runs read the counts
 * to show that every exit path, failures and cancellations included, closes what it opened. Thread-safe.
 */
public final class NativeObjects {
    private static final AtomicLong SESSIONS = new AtomicLong();
    private static final AtomicLong TENSORS = new AtomicLong();

    private NativeObjects() {
    }

    /** @return the sessions open now */
    public static long openSessions() {
        return SESSIONS.get();
    }

    /** @return the tensors the core created and has not closed yet */
    public static long openTensors() {
        return TENSORS.get();
    }

    static void sessionOpened() {
        SESSIONS.incrementAndGet();
    }

    static void sessionClosed() {
        SESSIONS.decrementAndGet();
    }

    static void tensorCreated() {
        TENSORS.incrementAndGet();
    }

    static void tensorClosed() {
        TENSORS.decrementAndGet();
    }
}
