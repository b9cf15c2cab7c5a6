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
