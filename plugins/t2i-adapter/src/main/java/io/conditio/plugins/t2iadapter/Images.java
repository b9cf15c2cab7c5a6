package io.conditio.plugins.t2iadapter;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** Condition-image preparation: the 1-channel (luma) tensor (resizing is {@link RgbImage#resizedBilinear}). */
final class Images {
    private Images() {
    }

    /** @return {@code [1, 1, H, W]}: {@code 0.299 R + 0.587 G + 0.114 B} per pixel */
    static FloatTensor luma(RgbImage image) {
        float[] px = image.pixels();
        float[] out = new float[image.width() * image.height()];
        for (int i = 0; i < out.length; i++) {
            out[i] = 0.299f * px[i * 3] + 0.587f * px[i * 3 + 1] + 0.114f * px[i * 3 + 2];
        }
        return FloatTensor.of(out, 1, 1, image.height(), image.width());
    }
}
