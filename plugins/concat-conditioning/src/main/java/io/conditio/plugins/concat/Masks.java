package io.conditio.plugins.concat;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** The inpainting UNet's extra inputs; reading the mask image itself is {@link io.conditio.api.InpaintMask}. */
public final class Masks {
    private Masks() {
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
