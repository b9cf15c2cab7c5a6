package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;
import java.util.List;

/**
 * Euler's method on the probability-flow ODE in sigma space (Karras et al., arXiv 2206.00364, Algorithm 2): a port
 * of diffusers' {@code EulerDiscreteScheduler}. Deterministic unless {@code s_churn > 0}, which adds noise as in
 * Algorithm 2 (one {@code randn(model_output.shape)} per churned step).
 *
 * <p>Config keys: {@link #KEYS}, each with this class's default; {@code conditio plugins --scheduler-keys} lists them.
 */
public final class EulerScheduler extends KDiffusionScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "EulerDiscreteScheduler";

    private static final ConfigKey<String> PREDICTION_TYPE = PredictionType.CONFIG_KEY.withChoices("epsilon", "sample",
            "v_prediction", "original_sample");
    private static final NoiseSchedule.Keys SCHEDULE = NoiseSchedule.KEYS.withZeroSnr();
    private static final ConfigKey<String> INTERPOLATION_TYPE = ConfigKey.choice("interpolation_type", "linear",
            "how the sigmas are interpolated at the inference timesteps", "linear", "log_linear");
    private static final ConfigKey<String> TIMESTEP_TYPE = ConfigKey.choice("timestep_type", "discrete",
            "continuous: the model takes 0.25 * log(sigma) as its timestep (v-prediction only)", "discrete",
            "continuous");
    private static final ConfigKey<Double> S_CHURN = ConfigKey.number("s_churn", 0.0,
            "the churn of Karras et al. Algorithm 2 (0: deterministic)");
    private static final ConfigKey<Double> S_TMIN = ConfigKey.number("s_tmin", 0.0,
            "the smallest sigma s_churn applies to");
    private static final ConfigKey<Double> S_TMAX = ConfigKey.number("s_tmax", Double.POSITIVE_INFINITY,
            "the largest sigma s_churn applies to");
    private static final ConfigKey<Double> S_NOISE = ConfigKey.number("s_noise", 1.0, "the scale of the churn noise");
    /** The config keys this class reads, with its defaults; {@link BuiltInSchedulers#configKeys} lists them. */
    static final List<ConfigKey<?>> KEYS = ConfigKey.list(PREDICTION_TYPE, SCHEDULE.list(), INTERPOLATION_TYPE,
            Sigmas.SPACING_KEYS, Sigmas.SIGMA_MIN, Sigmas.SIGMA_MAX, TimestepSpacing.SPACING_KEY, TIMESTEP_TYPE,
            TimestepSpacing.STEPS_OFFSET, Sigmas.FINAL_SIGMAS_TYPE, S_CHURN, S_TMIN, S_TMAX, S_NOISE);

    private final float[] alphasCumprod;
    private final String interpolationType;
    private final Sigmas.Spacing sigmaSpacing;
    private final Double sigmaMin;
    private final Double sigmaMax;
    private final TimestepSpacing.Config timestepSpacing;
    private final boolean continuousTimesteps;
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
        this(new ConfigReader(config, CLASS_NAME, KEYS));
    }

    private EulerScheduler(ConfigReader r) {
        super(r, PREDICTION_TYPE, SCHEDULE);
        alphasCumprod = schedule.alphasCumprodForSigmas();
        interpolationType = r.get(INTERPOLATION_TYPE);
        sigmaSpacing = Sigmas.readSpacing(r);
        sigmaMin = r.get(Sigmas.SIGMA_MIN);
        sigmaMax = r.get(Sigmas.SIGMA_MAX);
        String spacing = r.get(TimestepSpacing.SPACING_KEY);
        String timestepType = r.get(TIMESTEP_TYPE);
        continuousTimesteps = "continuous".equals(timestepType) && predictionType == PredictionType.V_PREDICTION;
        timestepSpacing = new TimestepSpacing.Config(spacing, r.get(TimestepSpacing.STEPS_OFFSET));
        finalSigmaMin = "sigma_min".equals(r.get(Sigmas.FINAL_SIGMAS_TYPE));
        sChurn = r.get(S_CHURN);
        sTmin = r.get(S_TMIN);
        sTmax = r.get(S_TMAX);
        sNoise = r.get(S_NOISE).floatValue();
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        TimestepSpacing.requireSteps("Euler", numInferenceSteps);
        int n = numInferenceSteps;
        float[] t = timestepSpacing.sigmaFamily(schedule.length(), n);
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
    float[] advance(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random,
            StepBuffers work) {
        int i = stepIndex(timestep);
        float sigma = sigmas[i];

        double gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (sigmas.length - 1), Math.sqrt(2) - 1) : 0.0;
        float sigmaHat = sigma * (float) (gamma + 1);

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        if (gamma > 0) {
            // Algorithm 2: raise the noise level to sigma_hat before the Euler step
            float[] noise = work.randn(random, modelOutput.shape());
            float churn = Float32.sqrt(sigmaHat * sigmaHat - sigma * sigma);
            float[] churned = work.scratch(1, n);
            for (int k = 0; k < n; k++) {
                churned[k] = x[k] + (noise[k] * sNoise) * churn;
            }
            x = churned;
        }

        // 1. predicted x0 from the sigma-scaled prediction (diffusers scales epsilon by sigma_hat, v by sigma)
        float x0Sigma = predictionType == PredictionType.V_PREDICTION ? sigma : sigmaHat;
        float[] x0 = PredictionConversion.dataFromSigma(predictionType, x, m, x0Sigma, work.scratch(0, n));

        // 2. the ODE derivative dx/dsigma, 3. one Euler step to the next sigma
        float[] prev = eulerStep(x, x, x0, sigmaHat, sigmas[i + 1] - sigmaHat, work.result(n));
        index.advance();
        return prev;
    }
}
