package io.conditio.plugins.controlnet;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** Control-image preparation: the NCHW batch the ControlNet takes (resizing is {@link RgbImage#resizedBilinear}). */
final class ControlImages {
    private ControlImages() {
    }

    /**
     * @param image the control image, values in [0, 1]
     * @param batch how many batch entries
     * @return {@code [batch, 3, H, W]}, the image repeated per entry
     */
    static FloatTensor batch(RgbImage image, int batch) {
        float[] one = image.toNchw().array();
        float[] out = new float[one.length * batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(one, 0, out, b * one.length, one.length);
        }
        return FloatTensor.of(out, batch, 3, image.height(), image.width());
    }
}
