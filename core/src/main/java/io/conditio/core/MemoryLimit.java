package io.conditio.core;

import io.conditio.api.InvalidRequestException;
import java.util.Locale;

/**
 * The memory a single request may ask for. Requests whose buffers are estimated to need more (a huge output size,
 * an image whose header announces a huge size) are refused with an {@link InvalidRequestException} before anything
 * is allocated, instead of ending in an {@link OutOfMemoryError} after seconds of work.
 *
 * <p>The limit is the system property {@value #PROPERTY} (bytes, or with a suffix {@code k}, {@code m}, {@code g}:
 * {@code -Dconditio.memory.limit=2g}); when unset, the JVM's maximum heap. The CLI sets it with
 * {@code --memory-limit}. It is read at every check, so a host can change it at run time.
 */
public final class MemoryLimit {
    /** The system property holding the limit. */
    public static final String PROPERTY = "conditio.memory.limit";

    private MemoryLimit() {
    }

    /**
     * @return the limit in bytes
     * @throws InvalidRequestException when the property is set but not a size
     */
    public static long bytes() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().maxMemory();
        }
        return parse(v);
    }

    /**
     * @param text a size: digits with an optional suffix k, m or g (binary units)
     * @return the size in bytes
     * @throws InvalidRequestException when the text is not a positive size
     */
    public static long parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            long n = Long.parseLong(t);
            if (n <= 0 || n > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("memory limit '" + text + "' is not a positive size; expected bytes or "
                    + "a number with k, m or g, e.g. 2g");
        }
    }

    /**
     * Refuses what would need more than the limit.
     *
     * @param what           what needs the memory, for the message (e.g. "a 100000x100000 image")
     * @param estimatedBytes the estimate; non-finite or negative estimates count as unlimited need
     * @throws InvalidRequestException when the estimate exceeds the limit
     */
    public static void check(String what, double estimatedBytes) {
        long limit = bytes();
        if (!(estimatedBytes >= 0) || estimatedBytes > limit) {
            throw new InvalidRequestException(what + " needs about " + describe(estimatedBytes)
                    + ", more than the memory limit of " + describe(limit) + " (set it with -D" + PROPERTY
                    + "=SIZE or conditio --memory-limit SIZE)");
        }
    }

    /**
     * The estimate for generating one image: the decoded image and its copies on the heap (float RGB, PNG bytes) and
     * the VAE decoder's activations at full resolution in native memory (about three live tensors of the decoder's
     * widest full-resolution block).
     *
     * @param width            output width in pixels
     * @param height           output height in pixels
     * @param fullResChannels  the VAE decoder's channels at full resolution (block_out_channels[0])
     * @return the estimate in bytes
     */
    public static double generationBytes(int width, int height, int fullResChannels) {
        return generationBytes(width, height, fullResChannels, 1);
    }

    /**
     * The estimate for generating several images of one prompt: every decoded image and its copies stay on the heap
     * until the result is returned; the VAE decodes one image at a time, so its activations count once.
     *
     * @param width            output width in pixels
     * @param height           output height in pixels
     * @param fullResChannels  the VAE decoder's channels at full resolution (block_out_channels[0])
     * @param images           the images per prompt
     * @return the estimate in bytes
     */
    public static double generationBytes(int width, int height, int fullResChannels, int images) {
        double pixels = (double) width * height;
        return pixels * (3 * 4 * 3 + 6) * images + pixels * fullResChannels * 4.0 * 3;
    }

    private static String describe(double bytes) {
        if (!(bytes >= 0) || Double.isInfinite(bytes)) {
            return "an unbounded amount";
        }
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (1L << 30));
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1L << 20));
    }
}
