package io.conditio.plugins.schedulers;

/**
 * Conventions shared by the k-diffusion ports (KDPM2 and its ancestral variant): the denoised prediction in sigma
 * space and the table layout of the second-order samplers.
 */
final class KDiffusion {
    private KDiffusion() {
    }

    /**
     * The predicted x0 at noise level {@code sigma}: {@code x - sigma * eps} for epsilon, and
     * {@code m * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)} for v-prediction, in float32.
     */
    static float[] predictX0(String predictionType, float[] x, float[] m, float sigma) {
        int n = x.length;
        float[] x0 = new float[n];
        if ("epsilon".equals(predictionType)) {
            for (int k = 0; k < n; k++) {
                x0[k] = x[k] - sigma * m[k];
            }
        } else if ("v_prediction".equals(predictionType)) {
            float sigmaSqPlusOne = sigma * sigma + 1f;
            float cOut = -sigma / Float32.sqrt(sigmaSqPlusOne);
            for (int k = 0; k < n; k++) {
                x0[k] = m[k] * cOut + x[k] / sigmaSqPlusOne;
            }
        } else {
            System.arraycopy(m, 0, x0, 0, n);
        }
        return x0;
    }

    /**
     * {@code torch.cat([a[:1], a[1:].repeat_interleave(2), a[-1:]])}: every entry after the first twice, and the last
     * once more.
     */
    static float[] interleave(float[] a) {
        int n = a.length - 1;
        float[] out = new float[2 * n + 2];
        out[0] = a[0];
        for (int i = 1; i <= n; i++) {
            out[2 * i - 1] = a[i];
            out[2 * i] = a[i];
        }
        out[2 * n + 1] = a[n];
        return out;
    }
}
