package io.conditio.plugins.concat;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** Mask preprocessing as diffusers' VaeImageProcessor does it for inpainting masks. */
public final class Masks {
    private Masks() {
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
     * @param grey values in [0, 1]
     * @return 1 where {@code grey >= 0.5} (repaint), else 0
     */
    public static float[] binarize(float[] grey) {
        float[] out = new float[grey.length];
        for (int i = 0; i < grey.length; i++) {
            out[i] = grey[i] >= 0.5f ? 1f : 0f;
        }
        return out;
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

    /**
     * The masked image of the inpainting pipeline: {@code image * (mask < 0.5)} in [-1, 1] space, returned in [0, 1]
     * space (masked pixels become 0.5, which the encoder sees as 0).
     *
     * @param image the init image
     * @param mask  the binarised mask at image size, 1 = repaint
     * @return the masked image
     */
    public static RgbImage maskedImage(RgbImage image, float[] mask) {
        float[] px = image.pixels().clone();
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] >= 0.5f) {
                px[i * 3] = 0.5f;
                px[i * 3 + 1] = 0.5f;
                px[i * 3 + 2] = 0.5f;
            }
        }
        return new RgbImage(image.width(), image.height(), px);
    }

    /**
     * @param plane a plane
     * @param batch how many copies along the batch axis
     * @param h     height
     * @param w     width
     * @return {@code [batch, 1, h, w]}
     */
    public static FloatTensor asBatch(float[] plane, int batch, int h, int w) {
        float[] out = new float[batch * plane.length];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(plane, 0, out, b * plane.length, plane.length);
        }
        return FloatTensor.of(out, batch, 1, h, w);
    }
}
