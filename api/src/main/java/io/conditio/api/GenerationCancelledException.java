package io.conditio.api;

/**
 * A generation stopped because it was told to: a step callback asked it to, its {@link java.util.concurrent.Future}
 * was cancelled, or its thread was interrupted. Everything it allocated has been released and the pipeline stays
 * usable. The message says at which step or stage it stopped.
 */
public class GenerationCancelledException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public GenerationCancelledException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public GenerationCancelledException(String message, Throwable cause) {
        super(message, cause);
    }
}
