package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;

/**
 * Turns the model's prediction (epsilon, sample or v_prediction) into the data prediction x0 or the noise prediction
 * epsilon, in float32: {@code convert_model_output} of the exponential-integrator solvers (DPM-Solver, DPM-Solver++,
 * UniPC, DEIS) at noise level {@code sigma}, with {@code alpha_t = 1 / sqrt(sigma^2 + 1)} and
 * {@code sigma_t = sigma * alpha_t}, the same conversions of the discrete-time schedulers (DDIM, DDPM, PNDM, LCM,
 * TCD) from {@code sqrt(alpha_bar_t)} and {@code sqrt(1 - alpha_bar_t)}, and the denoised prediction of the
 * sigma-space k-diffusion ports (Euler, Heun, LMS, KDPM2).
 */
final class PredictionConversion {
    private PredictionConversion() {
    }

    /**
     * {@code convert_model_output} of DPM-Solver (multistep and single-step) and UniPC: the data prediction of
     * {@link #toData} or the noise prediction of {@link #toNoise}; the output of an epsilon model that also predicts
     * its variance ({@code variance_type} learned or learned_range) is first cut to its mean channels.
     *
     * @param dataPrediction  whether the solver integrates x0 (DPM-Solver++, UniPC's {@code predict_x0}) or epsilon
     * @param predictionType  epsilon, sample or v_prediction
     * @param learnedVariance whether the model output carries the variance channels too
     * @param out             an array of the sample's length for the result
     * @return the converted output: {@code out}, or a new array when dynamic thresholding applies
     */
    static float[] convert(boolean dataPrediction, PredictionType predictionType, boolean learnedVariance,
            FloatTensor modelOutput, FloatTensor sample, float sigma, DynamicThresholding thresholding, float[] out) {
        FloatTensor m = learnedVariance && predictionType == PredictionType.EPSILON ? meanChannels(modelOutput, sample)
                : modelOutput;
        return dataPrediction ? toData(predictionType, m, sample, sigma, thresholding, out)
                : toNoise(predictionType, m, sample, sigma, thresholding, out);
    }

    /**
     * The data prediction x0, dynamically thresholded when {@code thresholding} is set: {@link #dataFromAlphaBar} with
     * {@code alpha_t} and {@code sigma_t} in the places of {@code sqrt(alpha_bar_t)} and {@code sqrt(1 - alpha_bar_t)}.
     *
     * @param out an array of the sample's length for the result
     * @return {@code out}, or a new array when dynamic thresholding applies
     */
    static float[] toData(PredictionType predictionType, FloatTensor modelOutput, FloatTensor sample, float sigma,
            DynamicThresholding thresholding, float[] out) {
        AlphaSigma vp = AlphaSigma.of(sigma);
        float[] x0 = fromAlphaBar(true, predictionType, sample.array(), modelOutput.array(), vp.alpha(), vp.sigma(),
                out);
        return thresholding != null ? thresholding.apply(FloatTensor.of(x0, sample.shape())).array() : x0;
    }

    /**
     * The noise prediction epsilon, {@link #noiseFromAlphaBar} at {@code alpha_t} and {@code sigma_t}; with
     * thresholding it goes through x0 and back, as diffusers does.
     *
     * @param out an array of the sample's length for the result
     * @return {@code out}, or a new array when dynamic thresholding applies
     */
    static float[] toNoise(PredictionType predictionType, FloatTensor modelOutput, FloatTensor sample, float sigma,
            DynamicThresholding thresholding, float[] out) {
        AlphaSigma vp = AlphaSigma.of(sigma);
        float[] x = sample.array();
        float[] eps = fromAlphaBar(false, predictionType, x, modelOutput.array(), vp.alpha(), vp.sigma(), out);
        if (thresholding != null) {
            float[] x0 = dataFromAlphaBar(PredictionType.EPSILON, x, eps, vp.alpha(), vp.sigma());
            x0 = thresholding.apply(FloatTensor.of(x0, sample.shape())).array();
            eps = noiseFromData(x, x0, vp);
        }
        return eps;
    }

    /**
     * DEIS's noise prediction: always re-derived from the (thresholded) data prediction of {@link #toData}, as
     * {@code (x - alpha_t * x0) / sigma_t}.
     *
     * @param x0Scratch an array of the sample's length for the data prediction
     * @param out       an array of the sample's length for the result, distinct from {@code x0Scratch}
     * @return {@code out}
     */
    static float[] toNoiseThroughData(PredictionType predictionType, FloatTensor modelOutput, FloatTensor sample,
            float sigma, DynamicThresholding thresholding, float[] x0Scratch, float[] out) {
        float[] x0 = toData(predictionType, modelOutput, sample, sigma, thresholding, x0Scratch);
        AlphaSigma vp = AlphaSigma.of(sigma);
        return fromAlphaBar(false, PredictionType.SAMPLE, sample.array(), x0, vp.alpha(), vp.sigma(), out);
    }

    /** @return {@code (x - alpha_t * x0) / sigma_t}: the noise a data prediction implies */
    private static float[] noiseFromData(float[] x, float[] x0, AlphaSigma vp) {
        return noiseFromAlphaBar(PredictionType.SAMPLE, x, x0, vp.alpha(), vp.sigma());
    }

    /**
     * The data prediction x0 of the discrete-time schedulers (DDPM formula (15)): {@code (x - sqrt(1 - a) * eps) /
     * sqrt(a)} for epsilon, the output itself for sample, {@code sqrt(a) * x - sqrt(1 - a) * v} for v_prediction.
     *
     * @param sqrtAlpha      {@code sqrt(alpha_bar_t)}
     * @param sqrtBeta       {@code sqrt(1 - alpha_bar_t)}
     * @return a new array
     */
    static float[] dataFromAlphaBar(PredictionType predictionType, float[] x, float[] m, float sqrtAlpha,
            float sqrtBeta) {
        return fromAlphaBar(true, predictionType, x, m, sqrtAlpha, sqrtBeta);
    }

    /**
     * The noise prediction epsilon of the discrete-time schedulers, from the same arguments as
     * {@link #dataFromAlphaBar}: the output itself for epsilon, {@code (x - sqrt(a) * x0) / sqrt(1 - a)} for sample,
     * {@code sqrt(a) * v + sqrt(1 - a) * x} for v_prediction; a new array.
     */
    static float[] noiseFromAlphaBar(PredictionType predictionType, float[] x, float[] m, float sqrtAlpha,
            float sqrtBeta) {
        return fromAlphaBar(false, predictionType, x, m, sqrtAlpha, sqrtBeta);
    }

    private static float[] fromAlphaBar(boolean data, PredictionType predictionType, float[] x, float[] m,
            float sqrtAlpha, float sqrtBeta) {
        return fromAlphaBar(data, predictionType, x, m, sqrtAlpha, sqrtBeta, new float[x.length]);
    }

    /**
     * {@link #dataFromAlphaBar} (data true) or {@link #noiseFromAlphaBar} (data false) written into {@code out}.
     *
     * @return {@code out}
     */
    static float[] fromAlphaBar(boolean data, PredictionType predictionType, float[] x, float[] m,
            float sqrtAlpha, float sqrtBeta, float[] out) {
        for (int k = 0; k < out.length; k++) {
            out[k] = switch (predictionType) {
                case EPSILON -> data ? (x[k] - sqrtBeta * m[k]) / sqrtAlpha : m[k];
                case SAMPLE -> data ? m[k] : (x[k] - sqrtAlpha * m[k]) / sqrtBeta;
                case V_PREDICTION -> data ? sqrtAlpha * x[k] - sqrtBeta * m[k] : sqrtAlpha * m[k] + sqrtBeta * x[k];
            };
        }
        return out;
    }

    /**
     * The data prediction x0 of the sigma-space (k-diffusion) ports at noise level {@code sigma}:
     * {@code x - sigma * eps} for epsilon, and
     * {@code m * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)} for v-prediction, in float32; for "sample" the
     * model output itself.
     */
    static float[] dataFromSigma(PredictionType predictionType, float[] x, float[] m, float sigma) {
        return dataFromSigma(predictionType, x, m, sigma, new float[x.length]);
    }

    /** {@link #dataFromSigma(PredictionType, float[], float[], float)} written into {@code x0}, which it returns. */
    static float[] dataFromSigma(PredictionType predictionType, float[] x, float[] m, float sigma, float[] x0) {
        int n = x.length;
        if (predictionType == PredictionType.EPSILON) {
            for (int k = 0; k < n; k++) {
                x0[k] = x[k] - sigma * m[k];
            }
        } else if (predictionType == PredictionType.V_PREDICTION) {
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
     * {@code model_output[:, :3]} for a model that also predicts its variance ({@code variance_type} learned): keeps
     * the first {@code sample.dim(1)} channels.
     */
    private static FloatTensor meanChannels(FloatTensor modelOutput, FloatTensor sample) {
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
