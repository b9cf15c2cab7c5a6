package io.conditio.plugins.t2iadapter;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** Condition-image preparation: resizing and the 1-channel (luma) tensor. */
final class Images {
    private Images() {
    }

    /** Bilinear resize with pixel centres aligned, edge samples clamped, no antialiasing. */
    static RgbImage resize(RgbImage image, int width, int height) {
        if (image.width() == width && image.height() == height) {
            return image;
        }
        float[] out = new float[width * height * 3];
        double sx = (double) image.width() / width;
        double sy = (double) image.height() / height;
        for (int y = 0; y < height; y++) {
            double fy = Math.max(0, Math.min(image.height() - 1, (y + 0.5) * sy - 0.5));
            int y0 = (int) Math.floor(fy);
            int y1 = Math.min(y0 + 1, image.height() - 1);
            double ty = fy - y0;
            for (int x = 0; x < width; x++) {
                double fx = Math.max(0, Math.min(image.width() - 1, (x + 0.5) * sx - 0.5));
                int x0 = (int) Math.floor(fx);
                int x1 = Math.min(x0 + 1, image.width() - 1);
                double tx = fx - x0;
                for (int c = 0; c < 3; c++) {
                    double top = image.get(x0, y0, c) * (1 - tx) + image.get(x1, y0, c) * tx;
                    double bottom = image.get(x0, y1, c) * (1 - tx) + image.get(x1, y1, c) * tx;
                    out[(y * width + x) * 3 + c] = (float) (top * (1 - ty) + bottom * ty);
                }
            }
        }
        return new RgbImage(width, height, out);
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
