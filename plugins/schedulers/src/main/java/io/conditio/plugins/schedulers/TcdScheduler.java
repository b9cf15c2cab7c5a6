package io.conditio.plugins.schedulers;

import io.conditio.api.FloatTensor;
import io.conditio.api.RandomSource;
import io.conditio.api.SchedulerConfig;

/**
 * Trajectory consistency distillation sampling (Zheng et al., arXiv 2402.19159): a port of diffusers'
 * {@code TCDScheduler}. Each step jumps to the intermediate timestep {@code s = floor((1 - eta) * t_prev)} along the
 * trajectory and, with {@code eta > 0} ("gamma" in the paper), re-noises to {@code t_prev} with
 * {@code randn(model_output.shape)} in every step but the last, as diffusers does. {@code eta = 0} is deterministic.
 *
 * <p>Config keys: {@code num_train_timesteps}, {@code beta_start} (default 0.00085), {@code beta_end} (0.012),
 * {@code beta_schedule} (scaled_linear), {@code trained_betas}, {@code original_inference_steps},
 * {@code set_alpha_to_one}, {@code prediction_type}, {@code rescale_betas_zero_snr}, and the step argument
 * {@code eta} (default 0, as diffusers' pipelines pass it; the TCD paper suggests 0.3).
 */
public final class TcdScheduler extends TimestepScheduler {
    /** The diffusers class this ports. */
    public static final String CLASS_NAME = "TCDScheduler";

    private final int numTrainTimesteps;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final int originalInferenceSteps;
    private final String predictionType;
    private final float eta;

    /**
     * @param config the scheduler config
     * @throws io.conditio.api.ConfigurationException for unsupported values
     */
    public TcdScheduler(SchedulerConfig config) {
        super(false);
        ConfigReader r = new ConfigReader(config, CLASS_NAME);
        predictionType = r.getChoice("prediction_type", "epsilon", "epsilon", "sample", "v_prediction");
        NoiseSchedule schedule = NoiseSchedule.fromConfig(r, 0.00085, 0.012, "scaled_linear", true, predictionType);
        numTrainTimesteps = schedule.length();
        alphasCumprod = schedule.alphasCumprod();
        originalInferenceSteps = r.getInt("original_inference_steps", 50);
        finalAlphaCumprod = r.getBoolean("set_alpha_to_one", true) ? 1f : alphasCumprod[0];
        eta = (float) r.getDouble("eta", 0.0);
        if (!(eta >= 0 && eta <= 1)) {
            throw r.invalid("eta (gamma in the TCD paper) must be in [0, 1], got " + eta);
        }
        this.config = r.effective();
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        timesteps = TimestepSpacing.toFloats(
                TimestepSpacing.consistency("TCD", numTrainTimesteps, originalInferenceSteps, numInferenceSteps));
        NoiseSchedule.requireNoTerminalEpsilonStep(CLASS_NAME, predictionType, alphasCumprod, timesteps);
        index.reset();
    }

    @Override
    public FloatTensor step(FloatTensor modelOutput, float timestep, FloatTensor sample, RandomSource random) {
        index.initIfUnset(timestep, requireTimesteps());
        int i = index.get();
        int t = TimestepSpacing.integral(timestep);

        // 1. the next timestep and the intermediate one along the trajectory
        int prevT = i + 1 < timesteps.length ? (int) timesteps[i + 1] : 0;
        int s = (int) Math.floor((1f - eta) * (float) prevT);

        // 2. alphas and betas
        float alphaProdT = alphasCumprod[t];
        float betaProdT = 1f - alphaProdT;
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float alphaProdS = alphasCumprod[s];
        float betaProdS = 1f - alphaProdS;

        // 3. x0 and epsilon from the prediction, then the noised sample at s
        float[] x = sample.array();
        float[] m = modelOutput.array();
        int n = x.length;
        float sqrtAlpha = Float32.sqrt(alphaProdT);
        float sqrtBeta = Float32.sqrt(betaProdT);
        float sqrtAlphaS = Float32.sqrt(alphaProdS);
        float sqrtBetaS = Float32.sqrt(betaProdS);
        float[] x0 = PredictionConversion.dataFromAlphaBar(predictionType, x, m, sqrtAlpha, sqrtBeta);
        float[] eps = PredictionConversion.noiseFromAlphaBar(predictionType, x, m, sqrtAlpha, sqrtBeta);
        float[] noised = new float[n];
        for (int k = 0; k < n; k++) {
            noised[k] = sqrtAlphaS * x0[k] + sqrtBetaS * eps[k];
        }

        // 4. with eta > 0, re-noise from s to t_prev (not in the last step)
        float[] prev = noised;
        if (eta > 0 && i != timesteps.length - 1) {
            float[] noise = random.randn(modelOutput.shape()).array();
            float ratio = alphaProdTPrev / alphaProdS;
            float a = Float32.sqrt(ratio);
            float b = Float32.sqrt(1f - ratio);
            prev = new float[n];
            for (int k = 0; k < n; k++) {
                prev[k] = a * noised[k] + b * noise[k];
            }
        }
        index.advance();
        return FloatTensor.of(prev, sample.shape());
    }

    @Override
    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float timestep) {
        return NoiseSchedule.addNoise(alphasCumprod, original, noise, TimestepSpacing.integral(timestep));
    }
}
