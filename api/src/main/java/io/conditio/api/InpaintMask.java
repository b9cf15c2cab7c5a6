package io.conditio.api;

/**
 * Inpainting mask preprocessing as diffusers' {@code VaeImageProcessor} does it, shared by the runtime (mask blending)
 * and conditioning plugins (the UNet's mask channel), so both read a mask image the same way: grey level as PIL's
 * {@code convert("L")}, binarised at 0.5 (white = repaint), resized to the latent grid by nearest neighbour.
 */
public final class InpaintMask {
    private InpaintMask() {
    }

    /**
     * Grey level as PIL's {@code convert("L")} (ITU-R 601-2 luma on 8-bit values, integer rounding), in [0, 1].
     *
     * @param image an RGB image in [0, 1]
     * @return {@code [height * width]} grey values
     */
    public static float[] luminance(RgbImage image) {
        int n = image.width() * image.height();
        float[] out = new float[n];
        float[] px = image.pixels();
        for (int i = 0; i < n; i++) {
            int r = Math.round(px[i * 3] * 255f);
            int g = Math.round(px[i * 3 + 1] * 255f);
            int b = Math.round(px[i * 3 + 2] * 255f);
            out[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255f;
        }
        return out;
    }

    /**
     * @param mask a mask image, white = repaint
     * @return {@code [height * width]}: 1 where the grey level is at least 0.5 (repaint), else 0
     */
    public static float[] binarized(RgbImage mask) {
        float[] grey = luminance(mask);
        for (int i = 0; i < grey.length; i++) {
            grey[i] = grey[i] >= 0.5f ? 1f : 0f;
        }
        return grey;
    }

    /**
     * Nearest-neighbour resize as {@code torch.nn.functional.interpolate(mode="nearest")}: source index
     * {@code floor(dst * in / out)}.
     *
     * @param plane  a {@code [height * width]} plane
     * @param width  its width
     * @param height its height
     * @param outW   the new width
     * @param outH   the new height
     * @return the resized plane
     */
    public static float[] nearest(float[] plane, int width, int height, int outW, int outH) {
        float[] out = new float[outW * outH];
        float sy = height / (float) outH;
        float sx = width / (float) outW;
        for (int y = 0; y < outH; y++) {
            int srcY = Math.min((int) Math.floor(y * sy), height - 1);
            for (int x = 0; x < outW; x++) {
                int srcX = Math.min((int) Math.floor(x * sx), width - 1);
                out[y * outW + x] = plane[srcY * width + srcX];
            }
        }
        return out;
    }
}
