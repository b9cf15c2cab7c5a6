package io.conditio.core.pipeline;

import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.core.onnx.Cancellation;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A submitted generation, as {@link Pipeline#submit} returns it.
 *
 * <p>{@link #cancel(boolean)} stops a running generation within one step and terminates an ONNX Runtime call in
 * flight; {@code true} also interrupts the generating thread (which matters only for blocking code in callbacks).
 * Unlike {@link java.util.concurrent.FutureTask}, {@link #get()} on a cancelled task waits until the generation has
 * actually stopped and released what it allocated (at most one step), then throws the {@link CancellationException},
 * whose cause is the {@link io.conditio.api.GenerationCancelledException} saying where it stopped (no cause when it
 * was cancelled before it started). Any other failure, a time limit included, is the cause of the
 * {@link ExecutionException}.
 */
final class GenerationTask implements Future<GenerationResult>, Runnable {
    private static final int NEW = 0;
    private static final int RUNNING = 1;
    private static final int DONE = 2;
    private static final int CANCELLED = 3;

    private final Pipeline pipeline;
    private final GenerationRequest request;
    private final Consumer<GenerationTask> onEnd;
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile Cancellation cancellation;
    private volatile GenerationResult result;
    private volatile Throwable failure;
    private Thread runner;

    GenerationTask(Pipeline pipeline, GenerationRequest request, Consumer<GenerationTask> onEnd) {
        this.pipeline = pipeline;
        this.request = request;
        this.onEnd = onEnd;
    }

    @Override
    public void run() {
        if (!state.compareAndSet(NEW, RUNNING)) {
            return;
        }
        synchronized (this) {
            runner = Thread.currentThread();
            cancellation = Cancellation.start(request.timeout());
            if (state.get() == CANCELLED) {
                cancellation.cancel();
            }
        }
        try {
            result = pipeline.run(request, cancellation);
        } catch (Throwable t) {
            failure = t;
        } finally {
            synchronized (this) {
                runner = null;
                // an interrupt meant for this generation must not reach the executor's next task
                Thread.interrupted();
            }
            state.compareAndSet(RUNNING, DONE);
            ended.countDown();
            onEnd.accept(this);
        }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        if (state.compareAndSet(NEW, CANCELLED)) {
            ended.countDown();
            onEnd.accept(this);
            return true;
        }
        if (!state.compareAndSet(RUNNING, CANCELLED)) {
            return false;
        }
        synchronized (this) {
            if (cancellation != null) {
                cancellation.cancel();
            }
            if (mayInterruptIfRunning && runner != null) {
                runner.interrupt();
            }
        }
        return true;
    }

    @Override
    public boolean isCancelled() {
        return state.get() == CANCELLED;
    }

    @Override
    public boolean isDone() {
        int s = state.get();
        return s == DONE || s == CANCELLED;
    }

    @Override
    public GenerationResult get() throws InterruptedException, ExecutionException {
        ended.await();
        return outcome();
    }

    @Override
    public GenerationResult get(long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (!ended.await(timeout, unit)) {
            throw new TimeoutException("generation still running after " + timeout + " " + unit.name().toLowerCase());
        }
        return outcome();
    }

    private GenerationResult outcome() throws ExecutionException {
        if (state.get() == CANCELLED) {
            CancellationException e = new CancellationException(failure == null
                    ? "generation cancelled before it started" : failure.getMessage());
            if (failure != null) {
                e.initCause(failure);
            }
            throw e;
        }
        if (failure != null) {
            throw new ExecutionException(failure.getMessage(), failure);
        }
        return result;
    }
}
