package io.conditio.api;

import java.util.Objects;

/**
 * An RGB image as float samples in [0, 1], row-major HWC (the layout of diffusers' {@code output_type="np"}).
 *
 * @param width  pixels per row
 * @param height rows
 * @param pixels {@code height * width * 3} values, red-green-blue per pixel; not copied
 */
public record RgbImage(int width, int height, float[] pixels) {

    /** Validates the size. */
    public RgbImage {
        Objects.requireNonNull(pixels, "pixels");
        if (width <= 0 || height <= 0 || pixels.length != width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs "
                    + (long) width * height * 3 + " samples, got " + pixels.length);
        }
    }

    /**
     * @param x       column
     * @param y       row
     * @param channel 0 red, 1 green, 2 blue
     * @return the sample in [0, 1]
     */
    public float get(int x, int y, int channel) {
        return pixels[(y * width + x) * 3 + channel];
    }

    /**
     * Converts to 8-bit samples as diffusers' {@code numpy_to_pil} does: {@code round(x * 255)} (half to even).
     *
     * @return {@code height * width * 3} bytes, RGB per pixel
     */
    public byte[] toRgbBytes() {
        byte[] out = new byte[pixels.length];
        for (int i = 0; i < out.length; i++) {
            float v = Math.max(0f, Math.min(1f, pixels[i]));
            out[i] = (byte) (int) Math.rint(v * 255f);
        }
        return out;
    }

    /**
     * Bilinear resize with pixel centres aligned ({@code align_corners=False}, edge samples clamped), without
     * antialiasing. diffusers resizes control images with PIL (Lanczos), so an image that is not already the target
     * size gives slightly different values than diffusers would.
     *
     * @param newWidth  the target width
     * @param newHeight the target height
     * @return this image when it already has the size, else a new image
     */
    public RgbImage resizedBilinear(int newWidth, int newHeight) {
        if (width == newWidth && height == newHeight) {
            return this;
        }
        float[] out = new float[newWidth * newHeight * 3];
        double sx = (double) width / newWidth;
        double sy = (double) height / newHeight;
        for (int y = 0; y < newHeight; y++) {
            double fy = Math.max(0, Math.min(height - 1, (y + 0.5) * sy - 0.5));
            int y0 = (int) Math.floor(fy);
            int y1 = Math.min(y0 + 1, height - 1);
            double ty = fy - y0;
            for (int x = 0; x < newWidth; x++) {
                double fx = Math.max(0, Math.min(width - 1, (x + 0.5) * sx - 0.5));
                int x0 = (int) Math.floor(fx);
                int x1 = Math.min(x0 + 1, width - 1);
                double tx = fx - x0;
                for (int c = 0; c < 3; c++) {
                    double top = get(x0, y0, c) * (1 - tx) + get(x1, y0, c) * tx;
                    double bottom = get(x0, y1, c) * (1 - tx) + get(x1, y1, c) * tx;
                    out[(y * newWidth + x) * 3 + c] = (float) (top * (1 - ty) + bottom * ty);
                }
            }
        }
        return new RgbImage(newWidth, newHeight, out);
    }

    /**
     * @return the image as an NCHW tensor in [-1, 1], shape {@code [1, 3, height, width]}, as the VAE encoder takes it
     */
    public FloatTensor toSignedNchw() {
        float[] out = new float[pixels.length];
        int plane = width * height;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                out[c * plane + i] = 2f * pixels[i * 3 + c] - 1f;
            }
        }
        return FloatTensor.of(out, 1, 3, height, width);
    }

    /**
     * @return the image as an NCHW tensor in [0, 1], shape {@code [1, 3, height, width]}
     */
    public FloatTensor toNchw() {
        float[] out = new float[pixels.length];
        int plane = width * height;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                out[c * plane + i] = pixels[i * 3 + c];
            }
        }
        return FloatTensor.of(out, 1, 3, height, width);
    }
}
