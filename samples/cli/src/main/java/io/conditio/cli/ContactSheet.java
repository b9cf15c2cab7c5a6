package io.conditio.cli;

import io.conditio.api.RgbImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A labelled grid of images on white: a title line, the column values above the columns, the row values left of
 * the rows. Text is drawn with a small bitmap font shipped in the jar (11 pixels high, ASCII), so it needs no fonts
 * from the system.
 */
final class ContactSheet {
    static final int GLYPH_HEIGHT = 11;
    private static final int[][] GLYPHS = new int[95][];
    private static final int[] ADVANCE = new int[95];

    static {
        try (InputStream in = ContactSheet.class.getResourceAsStream("glyphs.txt")) {
            if (in == null) {
                throw new IllegalStateException("io/conditio/cli/glyphs.txt is missing from the CLI jar");
            }
            int i = 0;
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] p = line.trim().split(" ");
                ADVANCE[i] = Integer.parseInt(p[0]);
                GLYPHS[i] = new int[GLYPH_HEIGHT];
                for (int y = 0; y < GLYPH_HEIGHT; y++) {
                    GLYPHS[i][y] = Integer.parseInt(p[y + 1], 16);
                }
                i++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ContactSheet() {
    }

    /**
     * @param image the sheet
     * @param x     the left edge of each cell, by row then column
     * @param y     the top edge of each cell
     */
    record Sheet(RgbImage image, int[][] x, int[][] y) {
    }

    /** @return the width of a text in pixels */
    static int textWidth(String text) {
        int w = 0;
        for (char c : text.toCharArray()) {
            w += ADVANCE[index(c)];
        }
        return w;
    }

    private static int index(char c) {
        return c < 32 || c > 126 ? '?' - 32 : c - 32;
    }

    /**
     * @param title    the line above the grid
     * @param rowNames the row labels
     * @param colNames the column labels
     * @param cells    images by row, then column; all of one size
     * @param scale    each image enlarged by this factor (nearest neighbour)
     * @return the sheet and where each cell's top-left pixel is in it
     */
    static Sheet render(String title, List<String> rowNames, List<String> colNames, RgbImage[][] cells,
            int scale) {
        int cw = cells[0][0].width() * scale;
        int ch = cells[0][0].height() * scale;
        int gap = 4;
        int labelW = rowNames.stream().mapToInt(ContactSheet::textWidth).max().orElse(0) + 2 * gap;
        int colW = Math.max(cw, colNames.stream().mapToInt(ContactSheet::textWidth).max().orElse(0)) + gap;
        int titleH = GLYPH_HEIGHT + 2 * gap;
        int headH = GLYPH_HEIGHT + gap;
        int width = Math.max(labelW + colNames.size() * colW + gap, textWidth(title) + 2 * gap);
        int height = titleH + headH + rowNames.size() * (ch + gap) + gap;
        float[] px = new float[width * height * 3];
        java.util.Arrays.fill(px, 1f);
        int[][] xs = new int[rowNames.size()][colNames.size()];
        int[][] ys = new int[rowNames.size()][colNames.size()];
        draw(px, width, title, gap, gap);
        for (int c = 0; c < colNames.size(); c++) {
            int x = labelW + c * colW + (colW - gap - textWidth(colNames.get(c))) / 2;
            draw(px, width, colNames.get(c), x, titleH);
        }
        for (int r = 0; r < rowNames.size(); r++) {
            int y0 = titleH + headH + r * (ch + gap);
            draw(px, width, rowNames.get(r), gap, y0 + (ch - GLYPH_HEIGHT) / 2);
            for (int c = 0; c < colNames.size(); c++) {
                RgbImage img = cells[r][c];
                int x0 = labelW + c * colW + (colW - gap - cw) / 2;
                xs[r][c] = x0;
                ys[r][c] = y0;
                for (int y = 0; y < ch; y++) {
                    for (int x = 0; x < cw; x++) {
                        int src = ((y / scale) * img.width() + x / scale) * 3;
                        int dst = ((y0 + y) * width + x0 + x) * 3;
                        px[dst] = img.pixels()[src];
                        px[dst + 1] = img.pixels()[src + 1];
                        px[dst + 2] = img.pixels()[src + 2];
                    }
                }
            }
        }
        return new Sheet(new RgbImage(width, height, px), xs, ys);
    }

    private static void draw(float[] px, int width, String text, int x0, int y0) {
        int height = px.length / 3 / width;
        int x = x0;
        for (char c : text.toCharArray()) {
            int[] g = GLYPHS[index(c)];
            for (int y = 0; y < GLYPH_HEIGHT; y++) {
                for (int b = 0; b < 8; b++) {
                    if ((g[y] >> (7 - b) & 1) != 0 && x + b < width && y0 + y < height) {
                        int i = ((y0 + y) * width + x + b) * 3;
                        px[i] = 0f;
                        px[i + 1] = 0f;
                        px[i + 2] = 0f;
                    }
                }
            }
            x += ADVANCE[index(c)];
        }
    }
}
