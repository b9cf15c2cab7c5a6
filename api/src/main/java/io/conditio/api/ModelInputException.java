package io.conditio.api;

/** Inputs do not fit a model: a missing or unknown input, or a wrong element type or shape. The message names the model, the input, and the expected and actual type and shape. */
public class ModelInputException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public ModelInputException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public ModelInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
