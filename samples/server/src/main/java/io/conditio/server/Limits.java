package io.conditio.server;

/**
 * What one request may ask for. A request over a limit is refused with 400 and a JSON error naming the field
 * (413 for a body over {@link #maxRequestBytes}).
 *
 * @param maxRequestBytes the largest request body, in bytes
 * @param maxSide         the largest width or height, in pixels (also for uploaded images)
 * @param maxPixels       the largest width × height, for outputs and uploaded images
 * @param maxSteps        the most inference steps
 * @param maxImages       the most images per request (A1111's batch_size × n_iter)
 */
public record Limits(long maxRequestBytes, int maxSide, long maxPixels, int maxSteps, int maxImages) {

    /** Checks that every limit is positive. */
    public Limits {
        if (maxRequestBytes <= 0 || maxSide <= 0 || maxPixels <= 0 || maxSteps <= 0 || maxImages <= 0) {
            throw new IllegalArgumentException("every limit must be positive: " + maxRequestBytes + ", " + maxSide
                    + ", " + maxPixels + ", " + maxSteps + ", " + maxImages);
        }
    }

    /** @return 32 MiB bodies, 2048 px sides, 4 megapixels, 150 steps (A1111's slider maximum), 16 images */
    public static Limits defaults() {
        return new Limits(32L << 20, 2048, 4L << 20, 150, 16);
    }

    /**
     * @param steps the new step limit
     * @return these limits with another step limit
     */
    public Limits withMaxSteps(int steps) {
        return new Limits(maxRequestBytes, maxSide, maxPixels, steps, maxImages);
    }

    /**
     * @param bytes the new body limit
     * @return these limits with another body limit
     */
    public Limits withMaxRequestBytes(long bytes) {
        return new Limits(bytes, maxSide, maxPixels, maxSteps, maxImages);
    }
}
