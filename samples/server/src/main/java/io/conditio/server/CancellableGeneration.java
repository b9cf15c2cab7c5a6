package io.conditio.server;

import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.core.pipeline.Pipeline;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * One generation that another thread may cancel, through {@link Pipeline#submit}: a cancel stops it within one
 * step (an ONNX Runtime call in flight is terminated), and the pipeline releases what it allocated.
 */
final class CancellableGeneration {
    private final Pipeline pipeline;
    private final GenerationRequest request;
    private Future<GenerationResult> future;
    private boolean cancelled;

    CancellableGeneration(Pipeline pipeline, GenerationRequest request) {
        this.pipeline = pipeline;
        this.request = request;
    }

    /**
     * Runs the generation and waits for it.
     *
     * @return the result
     * @throws GenerationCancelledException when {@link #cancel()} was called before it finished
     */
    GenerationResult run() {
        Future<GenerationResult> f;
        synchronized (this) {
            if (cancelled) {
                throw new GenerationCancelledException("cancelled before it started");
            }
            f = future = pipeline.submit(request);
        }
        try {
            return f.get();
        } catch (CancellationException e) {
            throw new GenerationCancelledException("cancelled", e);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new GenerationCancelledException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Asks the generation to stop; safe from any thread, any number of times. */
    synchronized void cancel() {
        cancelled = true;
        if (future != null) {
            future.cancel(true);
        }
    }
}
