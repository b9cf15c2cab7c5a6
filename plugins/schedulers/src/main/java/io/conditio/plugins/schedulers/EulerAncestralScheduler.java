package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.RandomSource;
import io.conditio.api.Scheduler;
import io.conditio.api.SchedulerConfig;

/**
 * Ancestral sampling with Euler steps (k-diffusion's {@code sample_euler_ancestral}): a port of diffusers'
 * {@code EulerAncestralDiscreteScheduler}. Each step takes a deterministic Euler step down to {@code sigma_down}
 * and adds fresh noise of size {@code sigma_up}, drawing {@code randn(model_output.shape)} once per step, as
 * diffusers does.
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end}, {@code beta_schedule},
 * {@code trained_betas}, {@code prediction_type} (epsilon or v_prediction), {@code timestep_spacing},
 * {@code steps_offset}, {@code rescale_betas_zero_snr}.
 */
public final class EulerAncestralScheduler implements Scheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "EulerAncestralDiscreteScheduler";

    private final SchedulerConfig config;
    private final int numTrainTimesteps;
    private final float[] alphasCumprod;
    private final String predictionType;
    private final String timestepSpacing;
    private final int stepsOffset;

    private float[] timesteps;
    private float[] sigmas;
    private final StepIndex index = new StepIndex(false);

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public EulerAncestralScheduler(SchedulerConfig config) {
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        // diffusers raises NotImplementedError for "sample"
        predictionType = r.getChoice("prediction_type", "epsilon", "epsilon", "v_prediction");
        NoiseSchedule schedule = NoiseSchedule.fromConfig(r, 0.0001, 0.02, "linear", true, predictionType);
        numTrainTimesteps = schedule.length();
        alphasCumprod = schedule.alphasCumprodForSigmas();
        timestepSpacing = r.getChoice("timestep_spacing", "linspace", TimestepSpacing.SPACINGS);
        stepsOffset = r.getInt("steps_offset", 0);
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new InvalidRequestException("Euler ancestral: numInferenceSteps must be at least 1, got "
                    + numInferenceSteps);
        }
        timesteps = TimestepSpacing.sigmaFamily(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset);
        double[] s = Sigmas.interp(Sigmas.asDoubles(timesteps), Sigmas.fromAlphasCumprod(alphasCumprod));
        sigmas = Sigmas.withFinal(s, 0.0);
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
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;

        // 1. predicted x0 from the sigma-scaled prediction
        float[] x0 = new float[n];
        if ("epsilon".equals(predictionType)) {
            for (int k = 0; k < n; k++) {
                x0[k] = x[k] - sigma * m[k];
            }
        } else {
            float sigmaSqPlusOne = sigma * sigma + 1f;
            float cOut = -sigma / Float32.sqrt(sigmaSqPlusOne);
            for (int k = 0; k < n; k++) {
                x0[k] = m[k] * cOut + x[k] / sigmaSqPlusOne;
            }
        }

        // 2. split the move to sigma_to into a deterministic part (to sigma_down) and fresh noise (sigma_up)
        float sigmaFrom = sigmas[i];
        float sigmaTo = sigmas[i + 1];
        float fromSq = sigmaFrom * sigmaFrom;
        float toSq = sigmaTo * sigmaTo;
        float sigmaUp = Float32.sqrt(toSq * (fromSq - toSq) / fromSq);
        // sigma_up <= sigma_to in exact arithmetic; with squaredcos_cap_v2's huge sigma range float32 rounding can
        // push the radicand below 0 (diffusers issue 14213), which would be NaN
        float sigmaDown = Float32.sqrt(Math.max(toSq - sigmaUp * sigmaUp, 0f));
        float dt = sigmaDown - sigma;

        float[] prev = new float[n];
        for (int k = 0; k < n; k++) {
            float derivative = (x[k] - x0[k]) / sigma;
            prev[k] = x[k] + derivative * dt;
        }
        float[] noise = random.randn(modelOutput.shape()).array();
        for (int k = 0; k < n; k++) {
            prev[k] = prev[k] + noise[k] * sigmaUp;
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
