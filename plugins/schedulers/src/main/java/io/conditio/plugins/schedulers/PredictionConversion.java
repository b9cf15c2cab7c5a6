package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;

/**
 * {@code convert_model_output} of the exponential-integrator solvers (DPM-Solver, DPM-Solver++, UniPC): turns the
 * model's prediction at noise level {@code sigma} into the data prediction x0 or the noise prediction epsilon the
 * solver integrates, with {@code alpha_t = 1 / sqrt(sigma^2 + 1)} and {@code sigma_t = sigma * alpha_t}, in float32.
 */
final class PredictionConversion {
    private PredictionConversion() {
    }

    /**
     * The data prediction x0, dynamically thresholded when {@code thresholding} is set.
     *
     * @param predictionType epsilon, sample or v_prediction
     */
    static FloatTensor toData(String predictionType, FloatTensor modelOutput, FloatTensor sample, float sigma,
            DynamicThresholding thresholding) {
        float alphaT = Sigmas.vpAlpha(sigma);
        float sigmaT = sigma * alphaT;
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] out = new float[n];
        switch (predictionType) {
            case "epsilon" -> {
                for (int k = 0; k < n; k++) {
                    out[k] = (x[k] - sigmaT * m[k]) / alphaT;
                }
            }
            case "sample" -> System.arraycopy(m, 0, out, 0, n);
            default -> {
                for (int k = 0; k < n; k++) {
                    out[k] = alphaT * x[k] - sigmaT * m[k];
                }
            }
        }
        FloatTensor x0 = FloatTensor.of(out, sample.shape());
        return thresholding != null ? thresholding.apply(x0) : x0;
    }

    /**
     * The noise prediction epsilon; with thresholding it goes through x0 and back, as diffusers does.
     *
     * @param predictionType epsilon, sample or v_prediction
     */
    static FloatTensor toNoise(String predictionType, FloatTensor modelOutput, FloatTensor sample, float sigma,
            DynamicThresholding thresholding) {
        float alphaT = Sigmas.vpAlpha(sigma);
        float sigmaT = sigma * alphaT;
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float[] out = new float[n];
        switch (predictionType) {
            case "epsilon" -> System.arraycopy(m, 0, out, 0, n);
            case "sample" -> {
                for (int k = 0; k < n; k++) {
                    out[k] = (x[k] - alphaT * m[k]) / sigmaT;
                }
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    out[k] = alphaT * m[k] + sigmaT * x[k];
                }
            }
        }
        if (thresholding != null) {
            float[] x0 = new float[n];
            for (int k = 0; k < n; k++) {
                x0[k] = (x[k] - sigmaT * out[k]) / alphaT;
            }
            x0 = thresholding.apply(FloatTensor.of(x0, sample.shape())).array();
            for (int k = 0; k < n; k++) {
                out[k] = (x[k] - alphaT * x0[k]) / sigmaT;
            }
        }
        return FloatTensor.of(out, sample.shape());
    }

    /**
     * {@code model_output[:, :3]} for a model that also predicts its variance ({@code variance_type} learned): keeps
     * the first {@code sample.dim(1)} channels.
     */
    static FloatTensor meanChannels(FloatTensor modelOutput, FloatTensor sample) {
        if (modelOutput.sameShape(sample)) {
            return modelOutput;
        }
        int batch = modelOutput.dim(0);
        int channels = modelOutput.dim(1);
        int keep = sample.dim(1);
        int plane = modelOutput.size() / (batch * channels);
        float[] src = modelOutput.array();
        float[] out = new float[batch * keep * plane];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(src, b * channels * plane, out, b * keep * plane, keep * plane);
        }
        return FloatTensor.of(out, sample.shape());
    }
}
