package io.conditio.server;

/**
 * A request the server refuses, answered as {@code {"error": message, "field": name}} with an HTTP status.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String field;
    private Integer retryAfterSeconds;

    ApiError(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    /** 400: a field of the request is wrong; the message says what was given and what is expected. */
    static ApiError badField(String field, String message) {
        return new ApiError(400, field, field + ": " + message);
    }

    static ApiError notFound(String what) {
        return new ApiError(404, null, what);
    }

    static ApiError queueFull(int retryAfterSeconds, String message) {
        ApiError e = new ApiError(429, null, message);
        e.retryAfterSeconds = retryAfterSeconds;
        return e;
    }

    /** @return seconds a client should wait before retrying, or null */
    Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    int status() {
        return status;
    }

    /** @return the request field at fault, or null */
    String field() {
        return field;
    }
}
