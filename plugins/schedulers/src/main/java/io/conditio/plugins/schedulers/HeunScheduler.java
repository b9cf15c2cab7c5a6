package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;

/**
 * Heun's second-order method (Karras et al., arXiv 2206.00364, Algorithm 1): a port of diffusers'
 * {@code HeunDiscreteScheduler}. Order 2: every interior timestep appears twice in {@link #timesteps()}, once for
 * the Euler predictor and once for the trapezoidal corrector; the last step is a plain Euler step to sigma 0.
 * Deterministic.
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start} (default 0.00085), {@code beta_end} (0.012),
 * {@code beta_schedule}, {@code trained_betas}, {@code prediction_type}, {@code use_karras_sigmas},
 * {@code use_exponential_sigmas}, {@code clip_sample}, {@code clip_sample_range}, {@code timestep_spacing},
 * {@code steps_offset}.
 */
public final class HeunScheduler implements Scheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "HeunDiscreteScheduler";

    private final SchedulerConfig config;
    private final int numTrainTimesteps;
    private final float[] trainSigmas;
    private final String predictionType;
    private final Sigmas.Spacing sigmaSpacing;
    private final boolean clipSample;
    private final float clipSampleRange;
    private final String timestepSpacing;
    private final int stepsOffset;

    private float[] timesteps;
    private float[] sigmas;
    private final StepIndex index = new StepIndex(false);
    // the first-order half of the current step; null in "first order" state
    private float[] prevDerivative;
    private float dt;
    private float[] firstOrderSample;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public HeunScheduler(SchedulerConfig config) {
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        predictionType = r.getChoice("prediction_type", "epsilon", "epsilon", "sample", "v_prediction");
        NoiseSchedule schedule = NoiseSchedule.fromConfig(r, 0.00085, 0.012, "linear", false, predictionType);
        numTrainTimesteps = schedule.length();
        trainSigmas = Sigmas.fromAlphasCumprod(schedule.alphasCumprod());
        sigmaSpacing = Sigmas.readSpacing(r, true);
        clipSample = r.getBoolean("clip_sample", false);
        clipSampleRange = (float) r.getDouble("clip_sample_range", 1.0);
        timestepSpacing = r.getChoice("timestep_spacing", "linspace", TimestepSpacing.SPACINGS);
        stepsOffset = r.getInt("steps_offset", 0);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new InvalidRequestException("Heun: numInferenceSteps must be at least 1, got " + numInferenceSteps);
        }
        float[] t = TimestepSpacing.sigmaFamily(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset);
        double[][] spaced = Sigmas.spaced(t, trainSigmas, sigmaSpacing, false);
        float[] s = Sigmas.withFinal(spaced[1], 0.0);
        float[] ts = TimestepSpacing.toFloats(spaced[0]);
        int n = ts.length;
        // sigmas: [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0]; timesteps: [t0, t1, t1, ..., t_{n-1}, t_{n-1}]
        sigmas = new float[2 * n];
        sigmas[0] = s[0];
        for (int i = 1; i < n; i++) {
            sigmas[2 * i - 1] = s[i];
            sigmas[2 * i] = s[i];
        }
        sigmas[2 * n - 1] = s[n];
        timesteps = new float[2 * n - 1];
        timesteps[0] = ts[0];
        for (int i = 1; i < n; i++) {
            timesteps[2 * i - 1] = ts[i];
            timesteps[2 * i] = ts[i];
        }
        prevDerivative = null;
        firstOrderSample = null;
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
        return 2;
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
        boolean firstOrder = prevDerivative == null;
        float sigma = firstOrder ? sigmas[i] : sigmas[i - 1];
        float sigmaNext = firstOrder ? sigmas[i + 1] : sigmas[i];
        float sigmaHat = sigma; // gamma = 0: diffusers supports no churn here
        float sigmaInput = firstOrder ? sigmaHat : sigmaNext;

        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;

        // 1. predicted x0 (at the predictor's or the corrector's sigma)
        float[] x0 = new float[n];
        switch (predictionType) {
            case "epsilon" -> {
                for (int k = 0; k < n; k++) {
                    x0[k] = x[k] - sigmaInput * m[k];
                }
            }
            case "sample" -> System.arraycopy(m, 0, x0, 0, n);
            default -> {
                float sigmaSqPlusOne = sigmaInput * sigmaInput + 1f;
                float cOut = -sigmaInput / Float32.sqrt(sigmaSqPlusOne);
                for (int k = 0; k < n; k++) {
                    x0[k] = m[k] * cOut + x[k] / sigmaSqPlusOne;
                }
            }
        }
        if (clipSample) {
            for (int k = 0; k < n; k++) {
                x0[k] = Math.min(Math.max(x0[k], -clipSampleRange), clipSampleRange);
            }
        }

        float[] prev = new float[n];
        if (firstOrder) {
            // 2. Euler predictor: derivative at sigma, step to sigma_next; remembered for the corrector
            float[] derivative = new float[n];
            for (int k = 0; k < n; k++) {
                derivative[k] = (x[k] - x0[k]) / sigmaHat;
            }
            dt = sigmaNext - sigmaHat;
            for (int k = 0; k < n; k++) {
                prev[k] = x[k] + derivative[k] * dt;
            }
            prevDerivative = derivative;
            firstOrderSample = x;
        } else {
            // 2. Heun corrector: average the two derivatives and redo the step from the stored sample
            float[] base = firstOrderSample;
            for (int k = 0; k < n; k++) {
                float derivative = (x[k] - x0[k]) / sigmaNext;
                derivative = (prevDerivative[k] + derivative) / 2f;
                prev[k] = base[k] + derivative * dt;
            }
            prevDerivative = null;
            firstOrderSample = null;
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
