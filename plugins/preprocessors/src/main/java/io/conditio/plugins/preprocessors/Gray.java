package io.conditio.plugins.preprocessors;

import io.conditio.api.RgbImage;

/** Grayscale planes and the small image operations the preprocessors share. */
final class Gray {
    private Gray() {
    }

    /** ITU-R 601 luma in [0, 1], row-major. */
    static float[] luma(RgbImage image) {
        float[] px = image.pixels();
        float[] g = new float[image.width() * image.height()];
        for (int i = 0; i < g.length; i++) {
            g[i] = 0.299f * px[i * 3] + 0.587f * px[i * 3 + 1] + 0.114f * px[i * 3 + 2];
        }
        return g;
    }

    /** A gray plane in [0, 1] as an RGB image (clamped). */
    static RgbImage toImage(float[] g, int w, int h) {
        float[] out = new float[w * h * 3];
        for (int i = 0; i < g.length; i++) {
            float v = Math.max(0f, Math.min(1f, g[i]));
            out[i * 3] = v;
            out[i * 3 + 1] = v;
            out[i * 3 + 2] = v;
        }
        return new RgbImage(w, h, out);
    }

    static float at(float[] g, int w, int h, int x, int y) {
        return g[Math.max(0, Math.min(h - 1, y)) * w + Math.max(0, Math.min(w - 1, x))];
    }

    /** Separable Gaussian blur with the given sigma (kernel radius ceil(3 sigma)), replicated borders. */
    static float[] gaussian(float[] g, int w, int h, double sigma) {
        int r = Math.max(1, (int) Math.ceil(3 * sigma));
        float[] k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = (float) Math.exp(-i * i / (2 * sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= (float) sum;
        }
        float[] tmp = new float[g.length];
        float[] out = new float[g.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * at(g, w, h, x + i, y);
                }
                tmp[y * w + x] = s;
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * at(tmp, w, h, x, y + i);
                }
                out[y * w + x] = s;
            }
        }
        return out;
    }

    /** Sobel gradient magnitude (L2), replicated borders. */
    static float[] sobel(float[] g, int w, int h) {
        float[] gx = new float[g.length];
        float[] gy = new float[g.length];
        sobel(g, w, h, gx, gy);
        float[] out = new float[g.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.sqrt(gx[i] * gx[i] + gy[i] * gy[i]);
        }
        return out;
    }

    /**
     * The 3×3 Sobel gradients, replicated borders.
     *
     * @param g  the plane, row-major
     * @param w  its width
     * @param h  its height
     * @param gx receives the horizontal gradient of each pixel (right minus left)
     * @param gy receives the vertical gradient (below minus above)
     */
    static void sobel(float[] g, int w, int h, float[] gx, float[] gy) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float a = at(g, w, h, x - 1, y - 1);
                float b = at(g, w, h, x, y - 1);
                float c = at(g, w, h, x + 1, y - 1);
                float d = at(g, w, h, x - 1, y);
                float f = at(g, w, h, x + 1, y);
                float gg = at(g, w, h, x - 1, y + 1);
                float k = at(g, w, h, x, y + 1);
                float l = at(g, w, h, x + 1, y + 1);
                gx[y * w + x] = (c + 2 * f + l) - (a + 2 * d + gg);
                gy[y * w + x] = (gg + 2 * k + l) - (a + 2 * b + c);
            }
        }
    }

    /** Divides by the maximum (no change for an all-zero plane). */
    static float[] normalise(float[] g) {
        float max = 0;
        for (float v : g) {
            max = Math.max(max, v);
        }
        if (max > 0) {
            for (int i = 0; i < g.length; i++) {
                g[i] /= max;
            }
        }
        return g;
    }

    /** Square dilation (max filter) with the given radius. */
    static float[] dilate(float[] g, int w, int h, int radius) {
        float[] out = new float[g.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float m = 0;
                for (int dy = -radius; dy <= radius; dy++) {
                    for (int dx = -radius; dx <= radius; dx++) {
                        m = Math.max(m, at(g, w, h, x + dx, y + dy));
                    }
                }
                out[y * w + x] = m;
            }
        }
        return out;
    }

    /** Median of a plane's border pixels: the background level of a drawing or photo. */
    static float borderMedian(float[] g, int w, int h) {
        float[] b = new float[2 * w + 2 * h];
        int n = 0;
        for (int x = 0; x < w; x++) {
            b[n++] = g[x];
            b[n++] = g[(h - 1) * w + x];
        }
        for (int y = 0; y < h; y++) {
            b[n++] = g[y * w];
            b[n++] = g[y * w + w - 1];
        }
        java.util.Arrays.sort(b, 0, n);
        return b[n / 2];
    }
}
