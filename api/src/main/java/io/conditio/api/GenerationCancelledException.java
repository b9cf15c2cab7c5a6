package io.conditio.api;

/** A generation stopped because a step callback asked it to; everything it allocated has been released. */
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
