package io.conditio.it;

import io.conditio.api.RgbImage;
import java.util.List;
import java.util.Map;

/**
 * Draws and measures the "shapes" world of the default model: one shape (circle, square, triangle, cross) of one of
 * six colours at one of five positions on a light background, with the geometry of tools/shapes-model's data
 * generator. Measuring: background = the median colour, foreground = pixels far from it; colour by the nearest
 * reference hue, position by the nearest anchor to the centroid, shape by the fill ratio of the bounding box and the
 * vertical offset of the centroid (a triangle's mass sits low).
 */
final class ShapeImages {
    static final List<String> SHAPES = List.of("circle", "square", "triangle", "cross");
    static final Map<String, int[]> COLORS = Map.of(
            "red", new int[] {215, 35, 35}, "green", new int[] {30, 160, 55}, "blue", new int[] {40, 80, 220},
            "yellow", new int[] {240, 200, 20}, "purple", new int[] {135, 55, 185},
            "orange", new int[] {250, 130, 20});
    static final Map<String, float[]> POSITIONS = Map.of(
            "top left", new float[] {16, 16}, "top right", new float[] {48, 16}, "bottom left", new float[] {16, 48},
            "bottom right", new float[] {48, 48}, "center", new float[] {32, 32});
    static final int SIZE = 64;

    private ShapeImages() {
    }

    /** What a measurement found. */
    record Measured(String color, String position, String shape, boolean[] mask, int foreground) {
    }

    static boolean inside(String shape, float x, float y, float r) {
        switch (shape) {
            case "circle":
                return x * x + y * y <= r * r;
            case "square": {
                float h = r * 0.86f;
                return Math.abs(x) <= h && Math.abs(y) <= h;
            }
            case "triangle": {
                float top = -r * 1.05f;
                float base = r * 0.85f;
                float w = r * 1.1f;
                return y >= top && y <= base && Math.abs(x) <= w * (y - top) / (base - top);
            }
            case "cross": {
                float t = r * 0.36f;
                return (Math.abs(x) <= r && Math.abs(y) <= t) || (Math.abs(y) <= r && Math.abs(x) <= t);
            }
            default:
                throw new IllegalArgumentException(shape);
        }
    }

    /** Coverage of each pixel by the shape, 2×2 supersampled as the generator does. */
    static float[] coverage(String shape, String position, float r) {
        float[] c = POSITIONS.get(position);
        return coverageAt(shape, c[0], c[1], r);
    }

    /** Coverage of each pixel by the shape centred at (cx, cy), 2×2 supersampled as the generator does. */
    static float[] coverageAt(String shape, float cx, float cy, float r) {
        float[] a = new float[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int hits = 0;
                for (int sy = 0; sy < 2; sy++) {
                    for (int sx = 0; sx < 2; sx++) {
                        hits += inside(shape, x + (sx + 0.5f) / 2 - cx, y + (sy + 0.5f) / 2 - cy, r) ? 1 : 0;
                    }
                }
                a[y * SIZE + x] = hits / 4f;
            }
        }
        return a;
    }

    /** The filled shape centred at (cx, cy): where it covers more than half a pixel. */
    static boolean[] filledAt(String shape, float cx, float cy, float r) {
        float[] a = coverageAt(shape, cx, cy, r);
        boolean[] m = new boolean[a.length];
        for (int i = 0; i < a.length; i++) {
            m[i] = a[i] > 0.5f;
        }
        return m;
    }

    /**
     * A sketch: the 2-px white outline of the shape on black (the mask minus its erosion by a 3×3 square and then a
     * plus, as the training data's outlines).
     */
    static RgbImage sketchAt(String shape, float cx, float cy, float r) {
        boolean[] m = filledAt(shape, cx, cy, r);
        boolean[] er = erode(m, new int[][] {{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}, {0, 1}, {1, -1}, {1, 0}, {1, 1}});
        boolean[] er2 = erode(er, new int[][] {{-1, 0}, {1, 0}, {0, -1}, {0, 1}});
        float[] px = new float[SIZE * SIZE * 3];
        for (int i = 0; i < m.length; i++) {
            float v = m[i] && !er2[i] ? 1f : 0f;
            px[i * 3] = v;
            px[i * 3 + 1] = v;
            px[i * 3 + 2] = v;
        }
        return new RgbImage(SIZE, SIZE, px);
    }

    private static boolean[] erode(boolean[] m, int[][] offsets) {
        boolean[] out = m.clone();
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                for (int[] o : offsets) {
                    int yy = Math.floorMod(y + o[0], SIZE);
                    int xx = Math.floorMod(x + o[1], SIZE);
                    out[y * SIZE + x] &= m[yy * SIZE + xx];
                }
            }
        }
        return out;
    }

    /** A shape drawn on a light grey background. */
    static RgbImage draw(String shape, String color, String position, float r) {
        float[] a = coverage(shape, position, r);
        int[] col = COLORS.get(color);
        float[] px = new float[SIZE * SIZE * 3];
        for (int i = 0; i < a.length; i++) {
            for (int ch = 0; ch < 3; ch++) {
                float v = 238f * (1 - a[i]) + col[ch] * a[i];
                px[i * 3 + ch] = Math.round(v) / 255f;
            }
        }
        return new RgbImage(SIZE, SIZE, px);
    }

    /** White where the shape covers at least half a pixel, black elsewhere: a control image. */
    static RgbImage mask(String shape, String position, float r) {
        float[] a = coverage(shape, position, r);
        float[] px = new float[SIZE * SIZE * 3];
        for (int i = 0; i < a.length; i++) {
            float v = a[i] > 0.5f ? 1f : 0f;
            px[i * 3] = v;
            px[i * 3 + 1] = v;
            px[i * 3 + 2] = v;
        }
        return new RgbImage(SIZE, SIZE, px);
    }

    static boolean[] maskOf(RgbImage control) {
        boolean[] m = new boolean[control.width() * control.height()];
        for (int i = 0; i < m.length; i++) {
            m[i] = control.pixels()[i * 3] > 0.5f;
        }
        return m;
    }

    static Measured measure(RgbImage image) {
        int n = image.width() * image.height();
        float[] p = image.pixels();
        float[] bg = new float[3];
        for (int ch = 0; ch < 3; ch++) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = p[i * 3 + ch];
            }
            java.util.Arrays.sort(v);
            bg[ch] = v[n / 2];
        }
        boolean[] fg = new boolean[n];
        int count = 0;
        double sr = 0;
        double sg = 0;
        double sb = 0;
        double sx = 0;
        double sy = 0;
        int minX = Integer.MAX_VALUE;
        int minY = Integer.MAX_VALUE;
        int maxX = -1;
        int maxY = -1;
        for (int i = 0; i < n; i++) {
            float d = Math.max(Math.abs(p[i * 3] - bg[0]), Math.max(Math.abs(p[i * 3 + 1] - bg[1]),
                    Math.abs(p[i * 3 + 2] - bg[2])));
            if (d > 0.25f) {
                fg[i] = true;
                count++;
                int x = i % image.width();
                int y = i / image.width();
                sr += p[i * 3];
                sg += p[i * 3 + 1];
                sb += p[i * 3 + 2];
                sx += x + 0.5;
                sy += y + 0.5;
                minX = Math.min(minX, x);
                maxX = Math.max(maxX, x);
                minY = Math.min(minY, y);
                maxY = Math.max(maxY, y);
            }
        }
        if (count < 8) {
            return new Measured("none", "none", "none", fg, count);
        }
        String color = nearestHue(sr / count, sg / count, sb / count);
        double cx = sx / count;
        double cy = sy / count;
        String position = null;
        double best = Double.MAX_VALUE;
        for (Map.Entry<String, float[]> e : POSITIONS.entrySet()) {
            double d = Math.hypot(cx - e.getValue()[0], cy - e.getValue()[1]);
            if (d < best) {
                best = d;
                position = e.getKey();
            }
        }
        double w = maxX - minX + 1;
        double h = maxY - minY + 1;
        double fill = count / (w * h);
        double low = (cy - (minY + h / 2)) / h;
        String shape;
        if (low > 0.06) {
            shape = "triangle";
        } else if (fill > 0.9) {
            shape = "square";
        } else if (fill > 0.69) {
            shape = "circle";
        } else {
            shape = "cross";
        }
        return new Measured(color, position, shape, fg, count);
    }

    private static String nearestHue(double r, double g, double b) {
        double hue = hue(r, g, b);
        String best = null;
        double bestD = Double.MAX_VALUE;
        for (Map.Entry<String, int[]> e : COLORS.entrySet()) {
            int[] c = e.getValue();
            double d = Math.abs(hue - hue(c[0] / 255.0, c[1] / 255.0, c[2] / 255.0));
            d = Math.min(d, 360 - d);
            if (d < bestD) {
                bestD = d;
                best = e.getKey();
            }
        }
        return best;
    }

    static double hue(double r, double g, double b) {
        double max = Math.max(r, Math.max(g, b));
        double min = Math.min(r, Math.min(g, b));
        double d = max - min;
        if (d == 0) {
            return 0;
        }
        double h;
        if (max == r) {
            h = ((g - b) / d) % 6;
        } else if (max == g) {
            h = (b - r) / d + 2;
        } else {
            h = (r - g) / d + 4;
        }
        h *= 60;
        return h < 0 ? h + 360 : h;
    }

    /** {@code image} where {@code keep} is true, {@code fill}'s pixels elsewhere. */
    static RgbImage keepOnly(RgbImage image, boolean[] keep, RgbImage fill) {
        float[] px = image.pixels().clone();
        for (int i = 0; i < keep.length; i++) {
            if (!keep[i]) {
                System.arraycopy(fill.pixels(), i * 3, px, i * 3, 3);
            }
        }
        return new RgbImage(image.width(), image.height(), px);
    }

    /** A uniform grey image. */
    static RgbImage blank(float grey) {
        float[] px = new float[SIZE * SIZE * 3];
        java.util.Arrays.fill(px, grey);
        return new RgbImage(SIZE, SIZE, px);
    }

    static double iou(boolean[] a, boolean[] b) {
        int inter = 0;
        int union = 0;
        for (int i = 0; i < a.length; i++) {
            inter += a[i] && b[i] ? 1 : 0;
            union += a[i] || b[i] ? 1 : 0;
        }
        return union == 0 ? 0 : inter / (double) union;
    }

    /** PSNR in dB over the pixels where {@code where} is true. */
    static double psnr(RgbImage a, RgbImage b, boolean[] where) {
        double se = 0;
        int n = 0;
        for (int i = 0; i < where.length; i++) {
            if (where[i]) {
                for (int ch = 0; ch < 3; ch++) {
                    double d = a.pixels()[i * 3 + ch] - b.pixels()[i * 3 + ch];
                    se += d * d;
                }
                n += 3;
            }
        }
        double mse = se / n;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }
}
