package io.conditio.plugins.preprocessors;

import io.conditio.api.RgbImage;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Canny edge detection in pure Java, for control images of Canny ControlNets: grayscale (ITU-R 601 luma, on the
 * 0..255 scale), 5×5 Gaussian blur (the binomial kernel {@code [1 4 6 4 1] / 16}, OpenCV's 5×5 kernel for sigma 0,
 * mirrored borders), 3×3 Sobel gradients (replicated borders), L1 magnitude {@code |gx| + |gy|} (OpenCV's default),
 * non-maximum suppression along the gradient direction quantised to 0°, 45°, 90° and 135°, double threshold and
 * hysteresis (8-connected weak pixels that reach a strong one are kept). The default thresholds 100 and 200 are those
 * of diffusers' ControlNet examples ({@code cv2.Canny(image, 100, 200)}). Edges come out white on black, as RGB.
 *
 * <p>Not bit-identical to OpenCV: {@code cv2.Canny} does not blur first and, given a colour image, takes the
 * strongest channel gradient instead of the luma's; so faint or fine-textured edges can differ. Strong, clean edges
 * (the usual control images) come out in the same places.
 */
final class CannyEdges {
    /** The low threshold of diffusers' examples. */
    static final double LOW = 100;
    /** The high threshold of diffusers' examples. */
    static final double HIGH = 200;
    private static final float[] GAUSS = {1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f};
    private static final double TAN_22_5 = Math.tan(Math.toRadians(22.5));
    private static final double TAN_67_5 = Math.tan(Math.toRadians(67.5));

    private CannyEdges() {
    }

    /**
     * @param image the image, samples in [0, 1]
     * @param low   the low threshold on the 0..255 scale (weak edges)
     * @param high  the high threshold (strong edges)
     * @return white (1.0) edges on black, the size of {@code image}
     */
    static RgbImage detect(RgbImage image, double low, double high) {
        int w = image.width();
        int h = image.height();
        float[] gray = new float[w * h];
        float[] px = image.pixels();
        for (int i = 0; i < gray.length; i++) {
            gray[i] = 255f * (0.299f * px[i * 3] + 0.587f * px[i * 3 + 1] + 0.114f * px[i * 3 + 2]);
        }
        float[] blurred = blur(gray, w, h);
        float[] gxs = new float[w * h];
        float[] gys = new float[w * h];
        Gray.sobel(blurred, w, h, gxs, gys);
        float[] magnitude = new float[w * h];
        for (int i = 0; i < magnitude.length; i++) {
            magnitude[i] = Math.abs(gxs[i]) + Math.abs(gys[i]);
        }
        // 0: not an edge, 1: weak, 2: strong
        byte[] state = new byte[w * h];
        Deque<Integer> strong = new ArrayDeque<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                float m = magnitude[i];
                if (m <= low || !isLocalMaximum(magnitude, w, h, x, y, gxs[i], gys[i])) {
                    continue;
                }
                if (m > high) {
                    state[i] = 2;
                    strong.add(i);
                } else {
                    state[i] = 1;
                }
            }
        }
        while (!strong.isEmpty()) {
            int i = strong.poll();
            int x = i % w;
            int y = i / w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx;
                    int ny = y + dy;
                    if (nx >= 0 && ny >= 0 && nx < w && ny < h && state[ny * w + nx] == 1) {
                        state[ny * w + nx] = 2;
                        strong.add(ny * w + nx);
                    }
                }
            }
        }
        float[] out = new float[w * h * 3];
        for (int i = 0; i < state.length; i++) {
            if (state[i] == 2) {
                out[i * 3] = 1f;
                out[i * 3 + 1] = 1f;
                out[i * 3 + 2] = 1f;
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Ties go to the pixel before the edge (strictly greater than the previous neighbour, at least the next). */
    private static boolean isLocalMaximum(float[] m, int w, int h, int x, int y, float gx, float gy) {
        float v = m[y * w + x];
        double ax = Math.abs(gx);
        double ay = Math.abs(gy);
        if (ay <= ax * TAN_22_5) {
            return v > mag(m, w, h, x - 1, y) && v >= mag(m, w, h, x + 1, y);
        }
        if (ay >= ax * TAN_67_5) {
            return v > mag(m, w, h, x, y - 1) && v >= mag(m, w, h, x, y + 1);
        }
        int s = (gx < 0) != (gy < 0) ? -1 : 1;
        return v > mag(m, w, h, x - s, y - 1) && v > mag(m, w, h, x + s, y + 1);
    }

    private static float mag(float[] m, int w, int h, int x, int y) {
        return x < 0 || y < 0 || x >= w || y >= h ? 0f : m[y * w + x];
    }

    private static float[] blur(float[] src, int w, int h) {
        float[] tmp = new float[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int k = -2; k <= 2; k++) {
                    s += GAUSS[k + 2] * src[y * w + reflect101(x + k, w)];
                }
                tmp[y * w + x] = s;
            }
        }
        float[] out = new float[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int k = -2; k <= 2; k++) {
                    s += GAUSS[k + 2] * tmp[reflect101(y + k, h) * w + x];
                }
                out[y * w + x] = s;
            }
        }
        return out;
    }

    /** OpenCV's BORDER_REFLECT_101: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ... */
    private static int reflect101(int i, int n) {
        if (n == 1) {
            return 0;
        }
        while (i < 0 || i >= n) {
            i = i < 0 ? -i : 2 * (n - 1) - i;
        }
        return i;
    }
}
