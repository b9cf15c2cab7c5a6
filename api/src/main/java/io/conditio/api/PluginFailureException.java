package io.conditio.api;

/** A plugin that could not be loaded, started, or that failed while running. The message names the plugin id and version. */
public class PluginFailureException extends ConditioException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, where, and what was expected */
    public PluginFailureException(String message) {
        super(message);
    }

    /**
     * @param message what was wrong, where, and what was expected
     * @param cause the underlying failure
     */
    public PluginFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
