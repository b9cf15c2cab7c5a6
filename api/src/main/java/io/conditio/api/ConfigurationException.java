package io.conditio.api;

/** A configuration value that cannot be used: a scheduler config key with an unsupported value, an unknown scheduler name. The message names the key and the allowed values. */
public class ConfigurationException extends InvalidRequestException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public ConfigurationException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
