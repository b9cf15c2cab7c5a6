package io.conditio.api;

/**
 * A generation stopped because it ran past its time limit ({@link GenerationRequest#timeout()}); everything it
 * allocated has been released and the pipeline stays usable. Distinct from {@link GenerationCancelledException}, so
 * a host can tell "the caller gave up" from "the request took too long".
 */
public class GenerationTimeoutException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what ran out of time, where it stopped, and the limit */
    public GenerationTimeoutException(String message) {
        super(message);
    }

    /**
     * @param message what ran out of time, where it stopped, and the limit
     * @param cause the underlying failure (for example ONNX Runtime's report of a terminated call)
     */
    public GenerationTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
