package io.conditio.plugins.preprocessors;

import io.conditio.api.RgbImage;
import java.util.List;

/**
 * Draws skeletons as the OpenPose control images the pose ControlNets were trained on (the drawing of ControlNet's
 * OpenPose / DWPose annotators), on black, in 8-bit colour:
 * <ol>
 *   <li>the first 17 body limbs of OpenPose's limb sequence, each a filled ellipse along the limb (half axes: half
 *       its length and {@value #STICK_WIDTH} px) in its limb colour; a limb with a missing end is not drawn;</li>
 *   <li>the whole canvas times 0.6 (truncated), so limbs are darker than joints;</li>
 *   <li>each present body point as a disc of radius 4 in its colour;</li>
 *   <li>each hand's 20 edges as 2-px lines, edge {@code e} in the fully saturated hue {@code e / 20}, then its points
 *       as blue discs of radius 4;</li>
 *   <li>face points as white discs of radius 3.</li>
 * </ol>
 * Coordinates are truncated to whole pixels as the annotators do; hand and face points at pixel column or row 0 are
 * not drawn (their "present" test), body points are.
 */
final class PoseDrawing {
    static final int STICK_WIDTH = 4;
    /** OpenPose limbs, 1-based body point pairs; only the first 17 are drawn. */
    static final int[][] LIMBS = {{2, 3}, {2, 6}, {3, 4}, {4, 5}, {6, 7}, {7, 8}, {2, 9}, {9, 10}, {10, 11}, {2, 12},
            {12, 13}, {13, 14}, {2, 1}, {1, 15}, {15, 17}, {1, 16}, {16, 18}, {3, 17}, {6, 18}};
    static final int DRAWN_LIMBS = 17;
    /** Colour of limb i and of body point i. */
    static final int[][] COLORS = {{255, 0, 0}, {255, 85, 0}, {255, 170, 0}, {255, 255, 0}, {170, 255, 0},
            {85, 255, 0}, {0, 255, 0}, {0, 255, 85}, {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},
            {0, 0, 255}, {85, 0, 255}, {170, 0, 255}, {255, 0, 255}, {255, 0, 170}, {255, 0, 85}};
    static final int[][] HAND_EDGES = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {0, 5}, {5, 6}, {6, 7}, {7, 8}, {0, 9},
            {9, 10}, {10, 11}, {11, 12}, {0, 13}, {13, 14}, {14, 15}, {15, 16}, {0, 17}, {17, 18}, {18, 19},
            {19, 20}};
    static final int[] HAND_POINT = {0, 0, 255};
    static final int[] FACE_POINT = {255, 255, 255};

    private final int width;
    private final int height;
    private final int[] rgb;

    private PoseDrawing(int width, int height) {
        this.width = width;
        this.height = height;
        this.rgb = new int[width * height * 3];
    }

    /**
     * @param width  canvas width
     * @param height canvas height
     * @param people the skeletons, in pixels of that canvas
     * @return the control image
     */
    static RgbImage draw(int width, int height, List<Skeleton> people) {
        PoseDrawing d = new PoseDrawing(width, height);
        for (int i = 0; i < DRAWN_LIMBS; i++) {
            for (Skeleton p : people) {
                int a = LIMBS[i][0] - 1;
                int b = LIMBS[i][1] - 1;
                if (Skeleton.present(p.body(), a) && Skeleton.present(p.body(), b)) {
                    d.limb(p.body()[2 * a], p.body()[2 * a + 1], p.body()[2 * b], p.body()[2 * b + 1], COLORS[i]);
                }
            }
        }
        for (int i = 0; i < d.rgb.length; i++) {
            d.rgb[i] = (int) (d.rgb[i] * 0.6);
        }
        for (int i = 0; i < Skeleton.BODY; i++) {
            for (Skeleton p : people) {
                if (Skeleton.present(p.body(), i)) {
                    d.disc((int) p.body()[2 * i], (int) p.body()[2 * i + 1], 4, COLORS[i]);
                }
            }
        }
        // all left hands, then all right hands, as the annotators stack them
        for (Skeleton p : people) {
            d.hand(p.leftHand());
        }
        for (Skeleton p : people) {
            d.hand(p.rightHand());
        }
        for (Skeleton p : people) {
            for (int i = 0; i < Skeleton.FACE; i++) {
                int[] xy = detailPoint(p.face(), i);
                if (xy != null) {
                    d.disc(xy[0], xy[1], 3, FACE_POINT);
                }
            }
        }
        float[] out = new float[d.rgb.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.rgb[i] / 255f;
        }
        return new RgbImage(width, height, out);
    }

    /** The colour of hand edge {@code e}: HSV (e / 20, 1, 1) in 8 bits. */
    static int[] handEdgeColor(int e) {
        double h6 = e / (double) HAND_EDGES.length * 6;
        int sector = (int) Math.floor(h6);
        double f = h6 - sector;
        double[] c = switch (sector % 6) {
            case 0 -> new double[] {1, f, 0};
            case 1 -> new double[] {1 - f, 1, 0};
            case 2 -> new double[] {0, 1, f};
            case 3 -> new double[] {0, 1 - f, 1};
            case 4 -> new double[] {f, 0, 1};
            default -> new double[] {1, 0, 1 - f};
        };
        return new int[] {(int) Math.rint(c[0] * 255), (int) Math.rint(c[1] * 255), (int) Math.rint(c[2] * 255)};
    }

    /** @return the truncated pixel of a present hand or face point off column and row 0, else null */
    private static int[] detailPoint(float[] xy, int i) {
        if (!Skeleton.present(xy, i)) {
            return null;
        }
        int x = (int) xy[2 * i];
        int y = (int) xy[2 * i + 1];
        return x > 0 && y > 0 ? new int[] {x, y} : null;
    }

    private void hand(float[] peaks) {
        for (int e = 0; e < HAND_EDGES.length; e++) {
            int[] a = detailPoint(peaks, HAND_EDGES[e][0]);
            int[] b = detailPoint(peaks, HAND_EDGES[e][1]);
            if (a != null && b != null) {
                line(a[0], a[1], b[0], b[1], handEdgeColor(e));
            }
        }
        for (int i = 0; i < Skeleton.HAND; i++) {
            int[] xy = detailPoint(peaks, i);
            if (xy != null) {
                disc(xy[0], xy[1], 4, HAND_POINT);
            }
        }
    }

    /** A limb from (x0, y0) to (x1, y1): the filled ellipse polygon OpenCV's ellipse2Poly makes (1° steps). */
    private void limb(float x0, float y0, float x1, float y1, int[] color) {
        int cx = (int) ((x0 + x1) / 2.0);
        int cy = (int) ((y0 + y1) / 2.0);
        double length = Math.hypot(x0 - x1, y0 - y1);
        int angle = (int) Math.toDegrees(Math.atan2(y0 - y1, x0 - x1));
        int a = (int) (length / 2);
        int b = STICK_WIDTH;
        double ca = Math.cos(Math.toRadians(angle));
        double sa = Math.sin(Math.toRadians(angle));
        int n = 361;
        int[] px = new int[n];
        int[] py = new int[n];
        for (int i = 0; i < n; i++) {
            double t = Math.toRadians(i);
            double ex = a * Math.cos(t);
            double ey = b * Math.sin(t);
            px[i] = (int) Math.round(cx + ex * ca - ey * sa);
            py[i] = (int) Math.round(cy + ex * sa + ey * ca);
        }
        fillConvex(px, py, color);
    }

    /** Fills a convex polygon row by row, boundary pixels included. */
    private void fillConvex(int[] px, int[] py, int[] color) {
        int minY = Integer.MAX_VALUE;
        int maxY = Integer.MIN_VALUE;
        for (int y : py) {
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
        }
        int n = px.length;
        for (int y = Math.max(0, minY); y <= Math.min(height - 1, maxY); y++) {
            double left = Double.POSITIVE_INFINITY;
            double right = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                int j = (i + 1) % n;
                int ya = py[i];
                int yb = py[j];
                if (y < Math.min(ya, yb) || y > Math.max(ya, yb)) {
                    continue;
                }
                if (ya == yb) {
                    left = Math.min(left, Math.min(px[i], px[j]));
                    right = Math.max(right, Math.max(px[i], px[j]));
                } else {
                    double x = px[i] + (double) (y - ya) * (px[j] - px[i]) / (yb - ya);
                    left = Math.min(left, x);
                    right = Math.max(right, x);
                }
            }
            if (left <= right) {
                for (int x = (int) Math.round(left); x <= (int) Math.round(right); x++) {
                    set(x, y, color);
                }
            }
        }
    }

    /** A filled disc: the pixels within {@code r} of the centre (OpenCV's filled circle for these radii). */
    private void disc(int cx, int cy, int r, int[] color) {
        for (int dy = -r; dy <= r; dy++) {
            for (int dx = -r; dx <= r; dx++) {
                if (dx * dx + dy * dy <= r * r) {
                    set(cx + dx, cy + dy, color);
                }
            }
        }
    }

    /** A 2-px line with round ends: the pixels within 1 px of the segment. */
    private void line(int x0, int y0, int x1, int y1, int[] color) {
        double dx = x1 - x0;
        double dy = y1 - y0;
        double len2 = dx * dx + dy * dy;
        for (int y = Math.min(y0, y1) - 1; y <= Math.max(y0, y1) + 1; y++) {
            for (int x = Math.min(x0, x1) - 1; x <= Math.max(x0, x1) + 1; x++) {
                double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
                double ex = x0 + t * dx - x;
                double ey = y0 + t * dy - y;
                if (ex * ex + ey * ey <= 1.0) {
                    set(x, y, color);
                }
            }
        }
    }

    private void set(int x, int y, int[] color) {
        if (x < 0 || y < 0 || x >= width || y >= height) {
            return;
        }
        int o = (y * width + x) * 3;
        rgb[o] = color[0];
        rgb[o + 1] = color[1];
        rgb[o + 2] = color[2];
    }
}
