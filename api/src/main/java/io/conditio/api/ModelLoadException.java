package io.conditio.api;

/** A model folder or model file is missing, unreadable, or not a model the runtime can use. The message names the path. */
public class ModelLoadException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public ModelLoadException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
