package io.conditio.plugins.controlnet;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;

/** Control-image preparation: resizing to the generation size and the NCHW batch the ControlNet takes. */
final class ControlImages {
    private ControlImages() {
    }

    /**
     * Bilinear resize with pixel centres aligned ({@code align_corners=False}, edge samples clamped), without
     * antialiasing. diffusers resizes control images with PIL (Lanczos), so a control image that is not already the
     * output size gives slightly different control values than diffusers would.
     *
     * @param image  the image
     * @param width  the target width
     * @param height the target height
     * @return {@code image} itself when it already has the size, else a new image
     */
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
