package io.conditio.core.pipeline;

import io.conditio.api.RgbImage;

/** Image size adaptation for conditioning images. */
final class Images {
    private Images() {
    }

    /**
     * @return the image itself when it already has the size, else a bilinear resize (half-pixel centres, as
     *     PIL's bilinear filter for upscaling; diffusers uses Lanczos, so resized inputs differ slightly from it)
     */
    static RgbImage fit(RgbImage image, int width, int height) {
        if (image.width() == width && image.height() == height) {
            return image;
        }
        return resize(image, width, height);
    }

    static RgbImage resize(RgbImage image, int width, int height) {
        float[] out = new float[width * height * 3];
        float sx = image.width() / (float) width;
        float sy = image.height() / (float) height;
        for (int y = 0; y < height; y++) {
            float fy = Math.max(0f, (y + 0.5f) * sy - 0.5f);
            int y0 = Math.min((int) fy, image.height() - 1);
            int y1 = Math.min(y0 + 1, image.height() - 1);
            float wy = fy - y0;
            for (int x = 0; x < width; x++) {
                float fx = Math.max(0f, (x + 0.5f) * sx - 0.5f);
                int x0 = Math.min((int) fx, image.width() - 1);
                int x1 = Math.min(x0 + 1, image.width() - 1);
                float wx = fx - x0;
                for (int c = 0; c < 3; c++) {
                    float top = image.get(x0, y0, c) * (1 - wx) + image.get(x1, y0, c) * wx;
                    float bottom = image.get(x0, y1, c) * (1 - wx) + image.get(x1, y1, c) * wx;
                    out[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
                }
            }
        }
        return new RgbImage(width, height, out);
    }
}
