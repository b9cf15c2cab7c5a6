package io.conditio.plugins.preprocessors;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.RgbImage;
import org.junit.jupiter.api.Test;

/** Canny on synthetic images. */
class CannyEdgesTest {

    private static RgbImage square(int size, int from, int to, float inside, float outside) {
        float[] px = new float[size * size * 3];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                boolean in = x >= from && x < to && y >= from && y < to;
                for (int c = 0; c < 3; c++) {
                    px[(y * size + x) * 3 + c] = in ? inside : outside;
                }
            }
        }
        return new RgbImage(size, size, px);
    }

    /** Chebyshev distance from pixel (x, y) to the square's border line (between from-1|from and to-1|to). */
    private static double borderDistance(int x, int y, int from, int to) {
        double cx = x + 0.5;
        double cy = y + 0.5;
        boolean inside = cx > from && cx < to && cy > from && cy < to;
        double dx = Math.min(Math.abs(cx - from), Math.abs(cx - to));
        double dy = Math.min(Math.abs(cy - from), Math.abs(cy - to));
        if (inside) {
            return Math.min(dx, dy);
        }
        double ox = cx < from ? from - cx : cx > to ? cx - to : 0;
        double oy = cy < from ? from - cy : cy > to ? cy - to : 0;
        return Math.max(ox, oy);
    }

    @Test
    void aFilledSquareHasEdgesOnItsBorderOnly() {
        int size = 64;
        int from = 16;
        int to = 48;
        RgbImage edges = CannyEdges.detect(square(size, from, to, 1f, 0f), CannyEdges.LOW, CannyEdges.HIGH);
        assertThat(edges.width()).isEqualTo(size);
        int onBorder = 0;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float v = edges.get(x, y, 0);
                assertThat(v).isIn(0f, 1f);
                assertThat(edges.get(x, y, 1)).isEqualTo(v);
                assertThat(edges.get(x, y, 2)).isEqualTo(v);
                if (v == 1f) {
                    assertThat(borderDistance(x, y, from, to)).as("edge pixel (%d, %d) near the border", x, y)
                            .isLessThanOrEqualTo(1.5);
                    onBorder++;
                }
            }
        }
        // each side is traced (one pixel thick), corners may be cut
        for (int i = from + 2; i < to - 2; i++) {
            assertThat(column(edges, i, from - 2, from + 2)).as("top side at x=%d", i).isTrue();
            assertThat(column(edges, i, to - 2, to + 2)).as("bottom side at x=%d", i).isTrue();
            assertThat(row(edges, i, from - 2, from + 2)).as("left side at y=%d", i).isTrue();
            assertThat(row(edges, i, to - 2, to + 2)).as("right side at y=%d", i).isTrue();
        }
        assertThat(onBorder).isBetween(4 * (to - from - 4), 4 * (to - from + 4));
    }

    private static boolean column(RgbImage img, int x, int y0, int y1) {
        for (int y = y0; y <= y1; y++) {
            if (img.get(x, y, 0) == 1f) {
                return true;
            }
        }
        return false;
    }

    private static boolean row(RgbImage img, int y, int x0, int x1) {
        for (int x = x0; x <= x1; x++) {
            if (img.get(x, y, 0) == 1f) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aUniformImageHasNoEdges() {
        RgbImage edges = CannyEdges.detect(square(32, 0, 0, 0f, 0.6f), 100, 200);
        assertThat(edges.pixels()).containsOnly(0f);
    }

    @Test
    void aFaintStepBelowTheLowThresholdIsIgnoredAndHysteresisNeedsAStrongSeed() {
        // step of 10/255: magnitude about 4 * 10 * 10/16 = 25, below 100
        RgbImage faint = CannyEdges.detect(square(32, 8, 24, 10f / 255, 0f), 100, 200);
        assertThat(faint.pixels()).containsOnly(0f);
        // step of 60/255: magnitude about 150, between the thresholds: weak everywhere, no strong seed, no edge
        RgbImage weak = CannyEdges.detect(square(32, 8, 24, 60f / 255, 0f), 100, 200);
        assertThat(weak.pixels()).containsOnly(0f);
        // the same step with a low high threshold is an edge
        RgbImage strong = CannyEdges.detect(square(32, 8, 24, 60f / 255, 0f), 100, 120);
        assertThat(strong.pixels()).contains(1f);
    }

    @Test
    void colourEdgesUseLuma() {
        // pure blue square: luma 0.114 * 255 = 29 -> step magnitude ~73: no edge with 100/200
        float[] px = square(32, 8, 24, 0f, 0f).pixels();
        for (int y = 8; y < 24; y++) {
            for (int x = 8; x < 24; x++) {
                px[(y * 32 + x) * 3 + 2] = 1f;
            }
        }
        assertThat(CannyEdges.detect(new RgbImage(32, 32, px), 100, 200).pixels()).containsOnly(0f);
        // pure green: luma 150 -> magnitude ~374: edges
        float[] green = square(32, 8, 24, 0f, 0f).pixels();
        for (int y = 8; y < 24; y++) {
            for (int x = 8; x < 24; x++) {
                green[(y * 32 + x) * 3 + 1] = 1f;
            }
        }
        assertThat(CannyEdges.detect(new RgbImage(32, 32, green), 100, 200).pixels()).contains(1f);
    }
}
