package io.conditio.core.preview;

import io.conditio.api.FloatTensor;
import io.conditio.api.Model;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.core.model.ModelFolder;
import io.conditio.core.model.ModelHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Cheap previews of the latents during the loop: a linear map from the latent channels to RGB
 * ({@code rgb = W z + b}, a C×3 matrix and a bias), fitted once per model to what its own VAE decoder makes of random
 * latents, and cached in a file named by the model folder's hash. Rendering is a few multiply-adds per latent pixel,
 * shown enlarged by the VAE's factor (nearest neighbour), so a preview costs nothing next to a UNet call.
 */
public final class LatentPreview {
    /** Random latents decoded for the fit. */
    static final int SAMPLES = 4;

    private final int channels;
    private final float[] weights;
    private final float[] bias;
    private final int factor;

    LatentPreview(int channels, float[] weights, float[] bias, int factor) {
        this.channels = channels;
        this.weights = weights;
        this.bias = bias;
        this.factor = factor;
    }

    /** @return the C×3 weights, row-major by latent channel */
    public float[] weights() {
        return weights.clone();
    }

    /** @return the RGB bias */
    public float[] bias() {
        return bias.clone();
    }

    /**
     * The projection for a model folder: read from the cache folder when it holds one for this folder's hash, else
     * fitted through the folder's VAE decoder and written there.
     *
     * @param folder the model folder
     * @param cache  the cache folder (created when missing)
     * @return the projection
     */
    public static LatentPreview forModel(ModelFolder folder, Path cache) {
        String hash = ModelHash.of(folder.root());
        Path file = cache.resolve("latent-rgb-" + ModelHash.shortForm(hash) + ".txt");
        int c = folder.latentChannels();
        int f = folder.vaeSpatialFactor();
        if (Files.isRegularFile(file)) {
            try {
                LatentPreview p = parse(Files.readString(file), c, f);
                if (p != null) {
                    return p;
                }
            } catch (IOException | RuntimeException e) {
                // an unreadable cache entry is fitted again
            }
        }
        LatentPreview p = fit(folder);
        try {
            Files.createDirectories(cache);
            Path tmp = Files.createTempFile(cache, "latent-rgb", ".tmp");
            Files.writeString(tmp, p.format());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the cache is an optimisation: a preview without it is fitted again next time
        }
        return p;
    }

    /** @return the cache folder, {@link io.conditio.core.CacheFolder#root()}, else {@code ~/.cache/conditio} */
    public static Path defaultCache() {
        return io.conditio.core.CacheFolder.root()
                .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "conditio"));
    }

    /** Least squares of pooled VAE output on the latent channels, over a few random latents. */
    static LatentPreview fit(ModelFolder folder) {
        int c = folder.latentChannels();
        int f = folder.vaeSpatialFactor();
        int size = Math.max(4, Math.min(16, folder.unetSampleSize()));
        Model vae = folder.model("vae_decoder");
        float scale = (float) folder.vaeScalingFactor();
        float shift = (float) folder.vaeShiftFactor();
        Random random = new Random(0x5eed);
        int n = c + 1;
        double[][] ata = new double[n][n];
        double[][] aty = new double[3][n];
        for (int s = 0; s < SAMPLES; s++) {
            float[] z = new float[c * size * size];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) random.nextGaussian();
            }
            float[] scaled = z.clone();
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] = scaled[i] / scale + shift;
            }
            Map<String, Tensor> out = vae.run(Map.of(vae.inputs().keySet().iterator().next(),
                    FloatTensor.of(scaled, new int[] {1, c, size, size})));
            FloatTensor x = (FloatTensor) (out.containsKey("sample") ? out.get("sample") : out.values().iterator()
                    .next());
            int h = x.shape()[2];
            int w = x.shape()[3];
            int fy = h / size;
            int fx = w / size;
            float[] img = x.array();
            double[] row = new double[n];
            for (int y = 0; y < size; y++) {
                for (int xx = 0; xx < size; xx++) {
                    for (int ch = 0; ch < c; ch++) {
                        row[ch] = z[(ch * size + y) * size + xx];
                    }
                    row[c] = 1;
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < n; j++) {
                            ata[i][j] += row[i] * row[j];
                        }
                    }
                    for (int rgb = 0; rgb < 3; rgb++) {
                        double sum = 0;
                        for (int dy = 0; dy < fy; dy++) {
                            for (int dx = 0; dx < fx; dx++) {
                                sum += img[(rgb * h + y * fy + dy) * w + xx * fx + dx];
                            }
                        }
                        double target = (sum / (fy * fx)) / 2 + 0.5;
                        for (int i = 0; i < n; i++) {
                            aty[rgb][i] += row[i] * target;
                        }
                    }
                }
            }
        }
        float[] weights = new float[c * 3];
        float[] bias = new float[3];
        for (int rgb = 0; rgb < 3; rgb++) {
            double[] sol = solve(ata, aty[rgb]);
            for (int ch = 0; ch < c; ch++) {
                weights[ch * 3 + rgb] = (float) sol[ch];
            }
            bias[rgb] = (float) sol[c];
        }
        return new LatentPreview(c, weights, bias, f);
    }

    /** Gaussian elimination with partial pivoting, a small ridge for stability. */
    private static double[] solve(double[][] a0, double[] b0) {
        int n = b0.length;
        double[][] a = new double[n][];
        double[] b = b0.clone();
        for (int i = 0; i < n; i++) {
            a[i] = a0[i].clone();
            a[i][i] += 1e-6;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            double tb = b[col];
            b[col] = b[pivot];
            b[pivot] = tb;
            for (int r = col + 1; r < n; r++) {
                double m = a[r][col] / a[col][col];
                for (int k = col; k < n; k++) {
                    a[r][k] -= m * a[col][k];
                }
                b[r] -= m * b[col];
            }
        }
        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = b[r];
            for (int k = r + 1; k < n; k++) {
                s -= a[r][k] * x[k];
            }
            x[r] = s / a[r][r];
        }
        return x;
    }

    /**
     * @param latents latents {@code [1, C, h, w]} (as the loop holds them, scaled)
     * @return the preview, {@code w·f × h·f} pixels, f the VAE's factor
     */
    public RgbImage render(FloatTensor latents) {
        int[] s = latents.shape();
        if (s.length != 4 || s[1] != channels) {
            throw new IllegalArgumentException("latents " + latents.shapeString() + ": expected [1, " + channels
                    + ", h, w]");
        }
        int h = s[2];
        int w = s[3];
        float[] z = latents.array();
        float[] px = new float[h * f() * w * f() * 3];
        int outW = w * f();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float[] rgb = new float[3];
                for (int k = 0; k < 3; k++) {
                    float v = bias[k];
                    for (int ch = 0; ch < channels; ch++) {
                        v += weights[ch * 3 + k] * z[(ch * h + y) * w + x];
                    }
                    rgb[k] = Math.max(0f, Math.min(1f, v));
                }
                for (int dy = 0; dy < f(); dy++) {
                    for (int dx = 0; dx < f(); dx++) {
                        int i = ((y * f() + dy) * outW + x * f() + dx) * 3;
                        px[i] = rgb[0];
                        px[i + 1] = rgb[1];
                        px[i + 2] = rgb[2];
                    }
                }
            }
        }
        return new RgbImage(outW, h * f(), px);
    }

    private int f() {
        return factor;
    }

    String format() {
        StringBuilder s = new StringBuilder("# latent -> RGB: one row per latent channel (R G B), then the bias\n");
        for (int ch = 0; ch < channels; ch++) {
            s.append(String.format(Locale.ROOT, "%.9g %.9g %.9g%n", weights[ch * 3], weights[ch * 3 + 1],
                    weights[ch * 3 + 2]));
        }
        s.append(String.format(Locale.ROOT, "%.9g %.9g %.9g%n", bias[0], bias[1], bias[2]));
        return s.toString();
    }

    static LatentPreview parse(String text, int channels, int factor) {
        List<float[]> rows = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] p = line.trim().split("\\s+");
            rows.add(new float[] {Float.parseFloat(p[0]), Float.parseFloat(p[1]), Float.parseFloat(p[2])});
        }
        if (rows.size() != channels + 1) {
            return null;
        }
        float[] w = new float[channels * 3];
        for (int ch = 0; ch < channels; ch++) {
            System.arraycopy(rows.get(ch), 0, w, ch * 3, 3);
        }
        return new LatentPreview(channels, w, rows.get(channels), factor);
    }
}
