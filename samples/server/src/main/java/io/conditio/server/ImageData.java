package io.conditio.server;

import io.conditio.api.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Images that arrive in requests: base64 (plain or as a {@code data:image/...;base64,} URL), checked against the
 * size limits from the header before any pixel is decoded.
 */
final class ImageData {
    private ImageData() {
    }

    /**
     * @param field  the request field, for messages
     * @param base64 plain base64 or a data URL
     * @param limits the size limits
     * @return the image as RGB (alpha dropped, grey expanded)
     */
    static RgbImage decode(String field, String base64, Limits limits) {
        return decode(field, bytes(field, base64), limits);
    }

    /**
     * @param field  the request field or multipart part, for messages
     * @param bytes  the encoded image (PNG, JPEG, BMP or GIF)
     * @param limits the size limits
     * @return the image as RGB (alpha dropped, grey expanded)
     */
    static RgbImage decode(String field, byte[] bytes, Limits limits) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (in == null || !readers.hasNext()) {
                throw ApiError.badField(field, "not a PNG, JPEG, BMP or GIF image (" + bytes.length + " bytes)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w > limits.maxSide() || h > limits.maxSide() || (long) w * h > limits.maxPixels()) {
                    throw ApiError.badField(field, "the image is " + w + "x" + h + "; this server takes at most "
                            + limits.maxSide() + " pixels a side and " + limits.maxPixels() + " pixels");
                }
                return toRgb(reader.read(0));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiError a) {
                throw a;
            }
            throw ApiError.badField(field, "could not decode the image: " + e.getMessage());
        }
    }

    static byte[] bytes(String field, String base64) {
        String s = base64.strip();
        if (s.startsWith("data:")) {
            int comma = s.indexOf(',');
            if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) {
                throw ApiError.badField(field, "a data URL must be data:image/...;base64,<data>");
            }
            s = s.substring(comma + 1);
        }
        try {
            return Base64.getMimeDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw ApiError.badField(field, "not valid base64 (" + e.getMessage() + ")");
        }
    }

    static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] px = new float[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int i = (y * w + x) * 3;
                px[i] = ((p >> 16) & 0xff) / 255f;
                px[i + 1] = ((p >> 8) & 0xff) / 255f;
                px[i + 2] = (p & 0xff) / 255f;
            }
        }
        return new RgbImage(w, h, px);
    }

    /** Resizes with bilinear filtering (A1111's "just resize" for init images of another size). */
    static RgbImage resize(RgbImage img, int width, int height) {
        if (img.width() == width && img.height() == height) {
            return img;
        }
        float[] out = new float[width * height * 3];
        double sx = (double) img.width() / width;
        double sy = (double) img.height() / height;
        for (int y = 0; y < height; y++) {
            double fy = Math.max(0, (y + 0.5) * sy - 0.5);
            int y0 = Math.min((int) fy, img.height() - 1);
            int y1 = Math.min(y0 + 1, img.height() - 1);
            double ty = fy - y0;
            for (int x = 0; x < width; x++) {
                double fx = Math.max(0, (x + 0.5) * sx - 0.5);
                int x0 = Math.min((int) fx, img.width() - 1);
                int x1 = Math.min(x0 + 1, img.width() - 1);
                double tx = fx - x0;
                for (int c = 0; c < 3; c++) {
                    double top = img.get(x0, y0, c) * (1 - tx) + img.get(x1, y0, c) * tx;
                    double bottom = img.get(x0, y1, c) * (1 - tx) + img.get(x1, y1, c) * tx;
                    out[(y * width + x) * 3 + c] = (float) (top * (1 - ty) + bottom * ty);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    /** @return the image with every sample replaced by 1 - sample (A1111's inpainting_mask_invert) */
    static RgbImage invert(RgbImage img) {
        float[] out = img.pixels().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = 1f - out[i];
        }
        return new RgbImage(img.width(), img.height(), out);
    }
}
