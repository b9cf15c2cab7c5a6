package io.conditio.server;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;
import io.conditio.core.image.PngImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A cheap look at latents during the loop: a fixed linear map from Stable Diffusion's four latent channels to RGB
 * (the approximation A1111 calls "cheap"), upscaled by the VAE factor with nearest-neighbour so it has the image's
 * size. Other channel counts show their first three channels, each stretched to its own range.
 */
final class LatentPreview {
    private static final float[][] SD_FACTORS = {
        {0.3512f, 0.2297f, 0.3227f},
        {0.3250f, 0.4974f, 0.2350f},
        {-0.2829f, 0.1762f, 0.2721f},
        {-0.2120f, -0.2616f, -0.7177f},
    };

    private LatentPreview() {
    }

    static RgbImage project(FloatTensor latents, int factor) {
        int c = latents.dim(1);
        int h = latents.dim(2);
        int w = latents.dim(3);
        int plane = h * w;
        float[] src = latents.array();
        float[] rgb = new float[plane * 3];
        if (c == 4) {
            for (int i = 0; i < plane; i++) {
                for (int o = 0; o < 3; o++) {
                    float v = 0;
                    for (int k = 0; k < 4; k++) {
                        v += src[k * plane + i] * SD_FACTORS[k][o];
                    }
                    rgb[i * 3 + o] = Math.max(0f, Math.min(1f, (v + 1f) / 2f));
                }
            }
        } else {
            for (int o = 0; o < 3; o++) {
                int k = Math.min(o, c - 1);
                float lo = Float.MAX_VALUE;
                float hi = -Float.MAX_VALUE;
                for (int i = 0; i < plane; i++) {
                    lo = Math.min(lo, src[k * plane + i]);
                    hi = Math.max(hi, src[k * plane + i]);
                }
                float span = hi > lo ? hi - lo : 1f;
                for (int i = 0; i < plane; i++) {
                    rgb[i * 3 + o] = (src[k * plane + i] - lo) / span;
                }
            }
        }
        int f = Math.max(1, factor);
        float[] up = new float[plane * f * f * 3];
        int uw = w * f;
        for (int y = 0; y < h * f; y++) {
            for (int x = 0; x < uw; x++) {
                System.arraycopy(rgb, ((y / f) * w + x / f) * 3, up, (y * uw + x) * 3, 3);
            }
        }
        return new RgbImage(uw, h * f, up);
    }

    static byte[] png(FloatTensor latents, int factor) {
        try {
            return PngImages.encode(project(latents, factor), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
