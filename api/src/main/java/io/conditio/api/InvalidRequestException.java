package io.conditio.api;

/** A generation request that cannot be run as given: a bad number of steps, a size the model cannot produce, a missing image, a conditioning input the UNet does not declare. */
public class InvalidRequestException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public InvalidRequestException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public InvalidRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
