package io.conditio.api;

/**
 * Base of every exception Conditio throws on purpose. Unchecked; each message says what was wrong, where, and
 * what was expected.
 */
public class ConditioException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public ConditioException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public ConditioException(String message, Throwable cause) {
        super(message, cause);
    }
}
