package io.conditio.plugins.film;

/**
 * diffusers' {@code get_guidance_scale_embedding} (Latent Consistency Models), in float32 step by step as PyTorch
 * evaluates it:
 *
 * <pre>
 * w = w * 1000
 * half = dim // 2
 * emb = log(10000) / (half - 1)
 * emb = exp(arange(half) * -emb)
 * emb = w[:, None] * emb[None, :]
 * emb = cat([sin(emb), cos(emb)], dim=1)      # zero-padded by one column when dim is odd
 * </pre>
 */
final class GuidanceScaleEmbedding {
    private GuidanceScaleEmbedding() {
    }

    /**
     * @param w   the guidance value the model was distilled with, {@code guidance_scale - 1}, as float32
     * @param dim the embedding size ({@code time_cond_proj_dim}), at least 1
     * @return {@code dim} values: sines, then cosines, then a zero when {@code dim} is odd
     */
    static float[] embed(float w, int dim) {
        if (dim < 1) {
            throw new IllegalArgumentException("embedding size must be positive, got " + dim);
        }
        float scaled = w * 1000f;
        int half = dim / 2;
        float logBase = (float) Math.log(10000.0);
        float step = logBase / (float) (half - 1);
        float[] out = new float[dim];
        for (int k = 0; k < half; k++) {
            float freq = (float) Math.exp((float) k * -step);
            float arg = scaled * freq;
            out[k] = (float) Math.sin(arg);
            out[half + k] = (float) Math.cos(arg);
        }
        return out;
    }
}
