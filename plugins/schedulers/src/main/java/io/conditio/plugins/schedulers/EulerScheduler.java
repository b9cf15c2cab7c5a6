package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
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
public final class EulerScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "EulerDiscreteScheduler";

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
        TimestepSpacing.requireSteps("Euler", numInferenceSteps);
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
            s = Sigmas.between(sigmaSpacing, lo, hi, n);
            timestepsF64 = Sigmas.sigmasToT(s, logSigmas);
        }

        float sigmaLast = finalSigmaMin ? Float32.sqrt((1f - alphasCumprod[0]) / alphasCumprod[0]) : 0f;
        float[] sigmasWithFinal = Sigmas.withFinal(s, sigmaLast);

        float[] ts;
        if (continuousTimesteps) {
            ts = new float[sigmasWithFinal.length - 1];
            for (int i = 0; i < ts.length; i++) {
                ts[i] = 0.25f * Float32.log(sigmasWithFinal[i]);
            }
        } else {
            ts = TimestepSpacing.toFloats(timestepsF64);
        }
        setSchedule(ts, sigmasWithFinal, timestepSpacing);
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

        // 1. predicted x0 from the sigma-scaled prediction (diffusers scales epsilon by sigma_hat, v by sigma)
        float[] x0 = predictX0(predictionType, x, m, "v_prediction".equals(predictionType) ? sigma : sigmaHat);

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
}
