package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;

/**
 * Euler's method on the probability-flow ODE in sigma space (Karras et al., arXiv 2206.00364, Algorithm 2): a port
 * of diffusers' {@code EulerDiscreteScheduler}. Deterministic unless {@code s_churn > 0}, which adds noise as in
 * Algorithm 2 (one {@code randn(model_output.shape)} per churned step).
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end}, {@code beta_schedule},
 * {@code trained_betas}, {@code prediction_type}, {@code interpolation_type}, {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code sigma_min}, {@code sigma_max}, {@code timestep_spacing},
 * {@code timestep_type}, {@code steps_offset}, {@code rescale_betas_zero_snr}, {@code final_sigmas_type}, and the step
 * arguments {@code s_churn}, {@code s_tmin}, {@code s_tmax}, {@code s_noise}.
 */
public final class EulerScheduler implements Scheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "EulerDiscreteScheduler";

    private final SchedulerConfig config;
    private final int numTrainTimesteps;
    private final float[] alphasCumprod;
    private final String predictionType;
    private final String interpolationType;
    private final Sigmas.Spacing sigmaSpacing;
    private final Double sigmaMin;
    private final Double sigmaMax;
    private final String timestepSpacing;
    private final boolean continuousTimesteps;
    private final int stepsOffset;
    private final boolean finalSigmaMin;
    private final double sChurn;
    private final double sTmin;
    private final double sTmax;
    private final float sNoise;

    private float[] timesteps;
    private float[] sigmas;
    private final StepIndex index = new StepIndex(false);

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public EulerScheduler(SchedulerConfig config) {
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        String prediction = r.getChoice("prediction_type", "epsilon",
                "epsilon", "sample", "v_prediction", "original_sample");
        predictionType = "original_sample".equals(prediction) ? "sample" : prediction;
        NoiseSchedule schedule = NoiseSchedule.fromConfig(r, 0.0001, 0.02, "linear", true, predictionType);
        numTrainTimesteps = schedule.length();
        alphasCumprod = schedule.alphasCumprodForSigmas();
        interpolationType = r.getChoice("interpolation_type", "linear", "linear", "log_linear");
        sigmaSpacing = Sigmas.readSpacing(r, true);
        sigmaMin = r.getOptionalDouble("sigma_min");
        sigmaMax = r.getOptionalDouble("sigma_max");
        timestepSpacing = r.getChoice("timestep_spacing", "linspace", TimestepSpacing.SPACINGS);
        String timestepType = r.getChoice("timestep_type", "discrete", "discrete", "continuous");
        continuousTimesteps = "continuous".equals(timestepType) && "v_prediction".equals(predictionType);
        stepsOffset = r.getInt("steps_offset", 0);
        finalSigmaMin = "sigma_min".equals(r.getChoice("final_sigmas_type", "zero", "zero", "sigma_min"));
        sChurn = r.getDouble("s_churn", 0.0);
        sTmin = r.getDouble("s_tmin", 0.0);
        sTmax = r.getDouble("s_tmax", Double.POSITIVE_INFINITY);
        sNoise = (float) r.getDouble("s_noise", 1.0);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new InvalidRequestException("Euler: numInferenceSteps must be at least 1, got " + numInferenceSteps);
        }
        int n = numInferenceSteps;
        float[] t = TimestepSpacing.sigmaFamily(timestepSpacing, numTrainTimesteps, n, stepsOffset);
        float[] trainSigmas = Sigmas.fromAlphasCumprod(alphasCumprod);
        float[] logSigmas = Sigmas.log(trainSigmas);

        double[] s;
        if ("linear".equals(interpolationType)) {
            s = Sigmas.interp(Sigmas.asDoubles(t), trainSigmas);
        } else {
            // torch.linspace(log(sigma_max), log(sigma_min), n + 1).exp() in float32
            float[] l = NoiseSchedule.linspaceFloat32(logSigmas[logSigmas.length - 1], logSigmas[0], n + 1);
            s = new double[l.length];
            for (int i = 0; i < l.length; i++) {
                s[i] = Float32.exp(l[i]);
            }
        }

        double[] timestepsF64 = Sigmas.asDoubles(t);
        if (sigmaSpacing != Sigmas.Spacing.INTERPOLATED) {
            double lo = sigmaMin != null ? sigmaMin : s[s.length - 1];
            double hi = sigmaMax != null ? sigmaMax : s[0];
            s = sigmaSpacing == Sigmas.Spacing.KARRAS ? Sigmas.karras(lo, hi, n) : Sigmas.exponential(lo, hi, n);
            timestepsF64 = Sigmas.sigmasToT(s, logSigmas);
        }

        float sigmaLast = finalSigmaMin ? Float32.sqrt((1f - alphasCumprod[0]) / alphasCumprod[0]) : 0f;
        sigmas = Sigmas.withFinal(s, sigmaLast);

        if (continuousTimesteps) {
            timesteps = new float[sigmas.length - 1];
            for (int i = 0; i < timesteps.length; i++) {
                timesteps[i] = 0.25f * Float32.log(sigmas[i]);
            }
        } else {
            timesteps = TimestepSpacing.toFloats(timestepsF64);
        }
        index.reset();
    }

    @Override
    public float[] timesteps() {
        return requireTimesteps().clone();
    }

    @Override
    public float initNoiseSigma() {
        requireTimesteps();
        float max = Sigmas.max(sigmas);
        if ("linspace".equals(timestepSpacing) || "trailing".equals(timestepSpacing)) {
            return max;
        }
        return Float32.sqrt(max * max + 1f);
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public void setBeginIndex(int beginIndex) {
        index.setBegin(beginIndex);
    }

    @Override
    public FloatTensor scaleModelInput(FloatTensor sample, float timestep) {
        index.initIfUnset(timestep, requireTimesteps());
        float sigma = sigmas[index.get()];
        return sample.div(Float32.sqrt(sigma * sigma + 1f));
    }

    @Override
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        index.initIfUnset(timestep, requireTimesteps());
        int i = index.get();
        float sigma = sigmas[i];

        double gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (sigmas.length - 1), Math.sqrt(2) - 1) : 0.0;
        float sigmaHat = sigma * (float) (gamma + 1);

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        if (gamma > 0) {
            // Algorithm 2: raise the noise level to sigma_hat before the Euler step
            float[] noise = random.randn(modelOutput.shape()).array();
            float churn = Float32.sqrt(sigmaHat * sigmaHat - sigma * sigma);
            float[] churned = new float[n];
            for (int k = 0; k < n; k++) {
                churned[k] = x[k] + (noise[k] * sNoise) * churn;
            }
            x = churned;
        }

        // 1. predicted x0 from the sigma-scaled prediction
        float[] x0 = new float[n];
        switch (predictionType) {
            case "epsilon" -> {
                for (int k = 0; k < n; k++) {
                    x0[k] = x[k] - sigmaHat * m[k];
                }
            }
            case "sample" -> System.arraycopy(m, 0, x0, 0, n);
            default -> {
                // denoised = model_output * c_out + input * c_skip
                float sigmaSqPlusOne = sigma * sigma + 1f;
                float cOut = -sigma / Float32.sqrt(sigmaSqPlusOne);
                for (int k = 0; k < n; k++) {
                    x0[k] = m[k] * cOut + x[k] / sigmaSqPlusOne;
                }
            }
        }

        // 2. the ODE derivative dx/dsigma, 3. one Euler step to the next sigma
        float dt = sigmas[i + 1] - sigmaHat;
        float[] prev = new float[n];
        for (int k = 0; k < n; k++) {
            float derivative = (x[k] - x0[k]) / sigmaHat;
            prev[k] = x[k] + derivative * dt;
        }
        index.advance();
        return FloatTensor.of(prev, sample.shape());
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        float sigma = sigmas[index.forAddNoise(timestep, requireTimesteps())];
        return Sigmas.addNoise(original, noise, sigma);
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    private float[] requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps before using the scheduler");
        }
        return timesteps;
    }
}
