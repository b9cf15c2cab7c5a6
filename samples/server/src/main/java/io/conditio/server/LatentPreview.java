package io.conditio.server;

import io.conditio.api.FloatTensor;
import io.conditio.api.RgbImage;
import io.conditio.core.image.PngImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A look at the latents during the loop. Small latents (up to 32×32, images up to 256 px with an 8× VAE) go
 * through the model's own VAE decoder, so the preview shows what the image would be now; larger ones use the linear
 * latent-to-RGB projection fitted to that VAE ({@link io.conditio.core.preview.LatentPreview}, the one
 * {@code conditio generate --preview-every} uses: fitted once per model, cached on disk by the model's hash and here
 * per model folder), enlarged by the VAE factor with nearest neighbour so it has the image's size. A folder without
 * a VAE decoder gets Stable Diffusion's fixed four-channel factors (the approximation A1111 calls "cheap"), or for
 * other channel counts its first three channels, each stretched to its own range.
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

    static RgbImage decode(io.conditio.core.model.ModelFolder folder, FloatTensor latents) {
        io.conditio.api.Model vae = folder.model("vae_decoder");
        FloatTensor scaled = latents.div((float) folder.vaeScalingFactor());
        float shift = (float) folder.vaeShiftFactor();
        if (shift != 0f) {
            float[] a = scaled.array();
            for (int i = 0; i < a.length; i++) {
                a[i] += shift;
            }
        }
        Map<String, io.conditio.api.Tensor> out = vae.run(Map.of(vae.inputs().keySet().iterator().next(), scaled));
        FloatTensor x = (FloatTensor) (out.containsKey("sample") ? out.get("sample") : out.values().iterator().next());
        int h = x.dim(2);
        int w = x.dim(3);
        int plane = h * w;
        float[] src = x.array();
        float[] hwc = new float[plane * 3];
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < plane; i++) {
                hwc[i * 3 + ch] = Math.max(0f, Math.min(1f, src[ch * plane + i] / 2f + 0.5f));
            }
        }
        return new RgbImage(w, h, hwc);
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

    static final int VAE_PREVIEW_MAX_PLANE = 32 * 32;

    private static final java.util.concurrent.ConcurrentMap<java.nio.file.Path,
            io.conditio.core.preview.LatentPreview> FITTED = new java.util.concurrent.ConcurrentHashMap<>();

    static byte[] png(io.conditio.core.model.ModelFolder folder, FloatTensor latents, int factor) {
        RgbImage image;
        if (!folder.has("vae_decoder")) {
            image = project(latents, factor);
        } else if (latents.dim(2) * latents.dim(3) <= VAE_PREVIEW_MAX_PLANE) {
            image = decode(folder, latents);
        } else {
            image = fitted(folder).render(latents);
        }
        try {
            return PngImages.encode(image, Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fitted projection of a folder, read or fitted once per folder for the server's lifetime. */
    static io.conditio.core.preview.LatentPreview fitted(io.conditio.core.model.ModelFolder folder) {
        return FITTED.computeIfAbsent(folder.root().toAbsolutePath().normalize(),
                root -> io.conditio.core.preview.LatentPreview.forModel(folder,
                        io.conditio.core.preview.LatentPreview.defaultCache()));
    }
}
